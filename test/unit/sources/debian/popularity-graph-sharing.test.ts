import { describe, expect, it } from 'vitest';
import { debianPopularity, dependencyGraph } from '../../../../src/sources/debian/resolve/popularity.js';
import { snapshotOf, type PackageSpec } from '../../../support/debian-snapshot.js';

const RELEASE: readonly PackageSpec[] = [
  ['libc6', '2.36', { Depends: 'libgcc-s1' }],
  ['libgcc-s1', '12', { Depends: 'libc6' }],
  ['libssl3', '3.0', { Depends: 'libc6' }],
  ['curl', '7.88', { Depends: 'libssl3, libc6' }],
];
const SECURITY: readonly PackageSpec[] = [
  ['libssl3', '3.0.1', { Depends: 'libc6' }],
  ['linux-image-2', '2', { Depends: 'libssl3' }],
];

describe('the Debian popularity graph, shared per release', () => {
  it('builds one graph for every tag and snapshot of a release (bookworm, latest, a refreshed latest)', async () => {
    // Separate snapshots with their own package records, as separate tags and refreshes have.
    const bookworm = await snapshotOf({ stable: RELEASE }, 'bookworm');
    const latest = await snapshotOf({ stable: RELEASE, 'stable-security': SECURITY }, 'latest');
    const refreshed = await snapshotOf({ stable: RELEASE, 'stable-security': [...SECURITY, ['curl', '7.88.1', { Depends: 'libssl3' }]] }, 'latest');
    const graphs = new Set([bookworm, latest, refreshed].map((snapshot) => dependencyGraph(snapshot)));
    expect(graphs.size).toBe(1);
    // The counts built on the shared graph are the release's, for every tag.
    expect(debianPopularity(latest).get('libssl3')).toBe(debianPopularity(bookworm).get('libssl3'));
    expect(debianPopularity(latest).get('linux-image-2')).toBe(1);
  });

  it('builds another graph for another release or a changed release suite', async () => {
    const bookworm = dependencyGraph(await snapshotOf({ stable: RELEASE }, 'bookworm'));
    const changed = dependencyGraph(await snapshotOf({ stable: [...RELEASE.slice(0, 3), ['curl', '7.89', { Depends: 'libc6' }]] }, 'bookworm'));
    const other = dependencyGraph(await snapshotOf({ testing: RELEASE }, 'trixie'));
    expect(changed).not.toBe(bookworm);
    expect(other).not.toBe(bookworm);
    expect(changed.targets.length).toBe(bookworm.targets.length - 1);
  });

  it('keeps a bounded number of releases: an old one is built again after four others', async () => {
    const release = (n: number): readonly PackageSpec[] => [...RELEASE, [`extra-${n}`, '1', { Depends: 'libc6' }]];
    const first = dependencyGraph(await snapshotOf({ stable: release(0) }, 'r0'));
    expect(dependencyGraph(await snapshotOf({ stable: release(0) }, 'r0-again'))).toBe(first);
    for (let n = 1; n <= 4; n++) dependencyGraph(await snapshotOf({ stable: release(n) }, `r${n}`));
    const again = dependencyGraph(await snapshotOf({ stable: release(0) }, 'r0-later'));
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
