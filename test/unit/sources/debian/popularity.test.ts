import { describe, expect, it } from 'vitest';
import { debianPopularity, dependencyGraph, releaseView } from '../../../../src/sources/debian/resolve/popularity.js';
import { snapshotOf, type PackageSpec } from '../../../support/debian-snapshot.js';

const STABLE: readonly PackageSpec[] = [
  ['libc6', '2.36', { Depends: 'libgcc-s1' }],
  ['libgcc-s1', '12', { Depends: 'libc6' }],
  ['bash', '5.2', { Essential: 'yes', 'Pre-Depends': 'libc6' }],
  ['dpkg', '1.21', { Essential: 'yes', 'Pre-Depends': 'libzstd1' }],
  ['libzstd1', '1.5', { Depends: 'libc6' }],
  ['libcurl4', '7.88', { Depends: 'libc6, libssl3' }],
  ['libssl3', '3.0', { Depends: 'libc6' }],
  ['curl', '7.88', { Depends: 'libcurl4, libc6', Recommends: 'ca-certificates' }],
  ['ca-certificates', '2023', { Depends: 'openssl' }],
  ['openssl', '3.0', { Depends: 'libssl3' }],
  ['git', '2.39', { Depends: 'libcurl3-gnutls | libcurl4, bash, awk' }],
  ['mawk', '1.3', { Provides: 'awk' }],
  ['broken', '1', { Depends: 'nothing-at-all' }],
  ['apt-helper', '1', { 'Pre-Depends': 'dpkg', Depends: 'libc6' }],
  ['libpng16', '1.6', { Depends: 'libc6' }],
  ['libtiny', '1'],
  ['app-a', '1', { Depends: 'libpng16, dpkg (>= 1.20)' }],
  ['app-b', '1', { Depends: 'libpng16' }],
  ['app-c', '1', { Depends: 'libpng16' }],
  ['app-d', '1', { Depends: 'libtiny' }],
];

describe('Debian popularity from the dependency graph', () => {
  const universe = snapshotOf({ stable: STABLE });

  it('counts, per package, the one-package images that hold it, closures as the resolver builds them', async () => {
    expect(Object.fromEntries(debianPopularity(await universe))).toEqual({
      'app-a': 1, 'app-b': 1, 'app-c': 1, 'app-d': 1, 'apt-helper': 1, bash: 1, broken: 1, 'ca-certificates': 2, curl: 1,
      dpkg: 1, git: 1, libc6: 16, libcurl4: 3, 'libgcc-s1': 16, libpng16: 4, libssl3: 6, libtiny: 2, libzstd1: 2, mawk: 2, openssl: 3,
    });
  });

  it('ranks a library many applications use above one a single application uses', async () => {
    const popularity = debianPopularity(await universe);
    expect(popularity.get('libpng16')).toBeGreaterThan(popularity.get('libtiny') as number);
    expect(popularity.get('libssl3')).toBeGreaterThan(popularity.get('libcurl4') as number);
  });

  it('leaves dependencies on Essential packages to the Essential set: they inflate neither the package nor what it needs', async () => {
    const popularity = debianPopularity(await universe);
    // apt-helper, app-a and git depend on Essential packages; images never get them that way.
    expect(popularity.get('dpkg')).toBe(1);
    expect(popularity.get('bash')).toBe(1);
    expect(popularity.get('libzstd1')).toBe(2);
  });

  it('follows a recommended ca-certificates, as the resolver does', async () => {
    const popularity = debianPopularity(await universe);
    expect(popularity.get('ca-certificates')).toBe(2);
    expect(popularity.get('openssl')).toBe(3);
  });

  it('gives every tag of a release the release\'s counts: update suites change no count', async () => {
    const released = debianPopularity(await universe);
    const updated = await snapshotOf({
      stable: STABLE,
      'stable-security': [
        // An update that adds a dependency, and packages only the update suite has.
        ['libpng16', '1.6.1', { Depends: 'libc6, libnew' }],
        ['libnew', '1', { Depends: 'libc6' }],
        ['linux-image-2', '2', { Depends: 'libzstd1, libssl3' }],
      ],
    }, 'latest');
    const popularity = debianPopularity(updated);
    for (const [name, count] of released) expect([name, popularity.get(name)]).toEqual([name, count]);
    expect(popularity.get('libnew')).toBe(1);
    expect(popularity.get('linux-image-2')).toBe(1);
    expect(popularity.size).toBe(updated.packages.size);
    expect(releaseView(updated).packages.get('libpng16')?.map((c) => c.version)).toEqual(['1.6']);
  });

  it('counts direct dependents in direct mode', async () => {
    const popularity = debianPopularity(await universe, { mode: 'direct' });
    expect(popularity.get('libc6')).toBe(9);
    expect(popularity.get('libpng16')).toBe(4);
    expect(popularity.get('bash')).toBe(1);
    expect(popularity.get('git')).toBe(1);
  });

  it('builds one edge per relation, chosen by the resolver rule, names sorted', async () => {
    const graph = dependencyGraph(await universe);
    const successors = (name: string): string[] => {
      const i = graph.names.indexOf(name);
      return [...graph.targets.subarray(graph.offsets[i], graph.offsets[i + 1])].map((t) => graph.names[t] as string);
    };
    expect(successors('git')).toEqual(['libcurl4', 'mawk']);
    expect(successors('curl')).toEqual(['libcurl4', 'libc6', 'ca-certificates']);
    expect(successors('app-a')).toEqual(['libpng16']);
    expect(graph.names).toEqual([...graph.names].sort());
    expect(dependencyGraph(await universe)).toBe(graph);
  });

  it('is deterministic', async () => {
    const again = await snapshotOf({ stable: [...STABLE].reverse() });
    expect([...debianPopularity(again)].sort()).toEqual([...debianPopularity(await universe)].sort());
  });
});
