import { describe, expect, it } from 'vitest';
import { VerifiedPulls } from '../../../src/builder/verified-pulls.js';
import type { ImageRecord } from '../../../src/builder/records.js';

/** The memory behind verified pulls: bounded, expiring on its clock, never answering for another snapshot. */
const digest = (n: number): string => `sha256:${String(n).padStart(64, '0')}`;
const record = (n: number): ImageRecord => ({
  oci: { digest: digest(n), size: 500, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
  docker: null,
  config: { digest: digest(n + 1), size: 300 },
  layers: [digest(n + 2)],
});
const members = (name: string, n: number): Array<readonly [string, string]> => [
  [`manifests:${name}`, digest(n)],
  [`image-blobs:${name}`, digest(n + 1)],
  [`image-blobs:${name}`, digest(n + 2)],
];

function memory(options: { ttlMs?: number; maxNames?: number; maxBytes?: number; maxRevisions?: number } = {}) {
  let clock = 1_000;
  const pulls = new VerifiedPulls({ ...options, now: () => clock });
  return { pulls, advance: (ms: number) => void (clock += ms) };
}

describe('VerifiedPulls', () => {
  it('answers for the TTL on its clock, for the same snapshot only', () => {
    const { pulls, advance } = memory({ ttlMs: 1_000 });
    expect(pulls.has('tool', 'latest')).toBe(false);
    pulls.remember('tool', 'latest', 'git:abc', record(1), members('tool', 1));
    expect(pulls.has('tool', 'latest')).toBe(true);
    expect(pulls.get('tool', 'latest', 'git:abc')).toEqual(record(1));
    expect(pulls.get('tool', 'latest', 'git:def')).toBeUndefined(); // the tag moved
    expect(pulls.get('tool', 'v1', 'git:abc')).toBeUndefined();
    expect(pulls.get('shell/tool', 'latest', 'git:abc')).toBeUndefined();
    advance(999);
    expect(pulls.get('tool', 'latest', 'git:abc')).toEqual(record(1));
    advance(1);
    expect(pulls.get('tool', 'latest', 'git:abc')).toBeUndefined();
    expect(pulls.has('tool', 'latest')).toBe(false);
  });

  it('remembers nothing with a TTL of 0', () => {
    const { pulls } = memory({ ttlMs: 0 });
    pulls.remember('tool', 'latest', 'git:abc', record(1), members('tool', 1));
    expect(pulls.get('tool', 'latest', 'git:abc')).toBeUndefined();
    expect(pulls.stats.names).toBe(0);
  });

  it('vouches only for members it verified under the name, within the TTL, and stops answering pulls once it has', () => {
    const { pulls, advance } = memory({ ttlMs: 1_000 });
    pulls.remember('tool', 'latest', 'git:abc', record(1), members('tool', 1));
    expect(pulls.vouches('tool', 'image-blobs:tool', digest(9))).toBe(false);
    expect(pulls.vouches('extra', 'image-blobs:tool', digest(2))).toBe(false);
    expect(pulls.vouches('tool', 'manifests:tool', digest(2))).toBe(false); // a blob is not a manifest
    expect(pulls.get('tool', 'latest', 'git:abc')).toEqual(record(1));
    expect(pulls.vouches('tool', 'image-blobs:tool', digest(2))).toBe(true);
    expect(pulls.get('tool', 'latest', 'git:abc')).toBeUndefined(); // suspect: the next pull checks
    expect(pulls.has('tool', 'latest')).toBe(false);
    expect(pulls.vouches('tool', 'image-blobs:tool', digest(3))).toBe(true);
    advance(1_000);
    expect(pulls.vouches('tool', 'image-blobs:tool', digest(3))).toBe(false);
    // A checking pull verifies it afresh.
    pulls.remember('tool', 'latest', 'git:abc', record(1), members('tool', 1));
    expect(pulls.get('tool', 'latest', 'git:abc')).toEqual(record(1));
  });

  it('is bounded by names, by revisions per name and by bytes', () => {
    const byNames = memory({ maxNames: 2 });
    for (const name of ['a', 'b', 'c']) byNames.pulls.remember(name, 'latest', 's', record(1), members(name, 1));
    expect(byNames.pulls.stats.names).toBe(2);
    expect(byNames.pulls.get('a', 'latest', 's')).toBeUndefined();
    expect(byNames.pulls.get('c', 'latest', 's')).toEqual(record(1));

    const byRevisions = memory({ maxRevisions: 2 });
    for (const revision of ['r1', 'r2', 'r3']) byRevisions.pulls.remember('a', revision, 's', record(1), members('a', 1));
    expect(byRevisions.pulls.get('a', 'r1', 's')).toBeUndefined();
    expect(byRevisions.pulls.get('a', 'r2', 's')).toEqual(record(1));
    expect(byRevisions.pulls.get('a', 'r3', 's')).toEqual(record(1));

    const byBytes = memory({ maxBytes: 8 * 1024 });
    for (let n = 0; n < 50; n++) byBytes.pulls.remember(`name-${n}`, 'latest', 's', record(n * 10), members(`name-${n}`, n * 10));
    expect(byBytes.pulls.stats.bytes).toBeLessThanOrEqual(8 * 1024);
    expect(byBytes.pulls.stats.names).toBeGreaterThan(0);
    expect(byBytes.pulls.stats.names).toBeLessThan(50);
    expect(byBytes.pulls.stats.evictions).toBeGreaterThan(0);
    expect(byBytes.pulls.get('name-49', 'latest', 's')).toEqual(record(490));
  });
});
