import { describe, expect, it } from 'vitest';
import { parseRelease, releaseExpiry } from '../../../../src/sources/debian/archive/release.js';

const HASH = 'a'.repeat(64);

describe('Release parsing', () => {
  const text = [
    'Origin: Debian',
    'Suite: stable-security',
    'Codename: bookworm-security',
    'Date: Sat, 11 Jul 2026 10:16:37 UTC',
    'Valid-Until: Sat, 18 Jul 2026 10:16:37 UTC',
    'Acquire-By-Hash: yes',
    'Architectures: amd64 arm64',
    'Components: updates/main',
    'MD5Sum:',
    ' 0ed6d4c8891eb86358b94bb35d9e4da4  1484322 main/binary-amd64/Packages',
    'SHA256:',
    ` ${HASH}  1484322 main/binary-amd64/Packages`,
    ` ${'B'.repeat(64)}    98581 main/binary-amd64/Packages.xz`,
  ].join('\n');

  it('reads suite, dates and the SHA256 list only', () => {
    const release = parseRelease(text);
    expect(release.suite).toBe('stable-security');
    expect(release.codename).toBe('bookworm-security');
    expect(release.date?.toISOString()).toBe('2026-07-11T10:16:37.000Z');
    expect(release.validUntil?.toISOString()).toBe('2026-07-18T10:16:37.000Z');
    expect(release.acquireByHash).toBe(true);
    expect(release.architectures).toEqual(['amd64', 'arm64']);
    expect([...release.sha256]).toEqual([
      ['main/binary-amd64/Packages', { sha256: HASH, size: 1484322 }],
      ['main/binary-amd64/Packages.xz', { sha256: 'b'.repeat(64), size: 98581 }],
    ]);
  });

  it('refuses an expired Release by the injected clock, with the dates in the message', () => {
    const release = parseRelease(text);
    expect(releaseExpiry(release, new Date('2026-07-12T00:00:00Z'))).toBeNull();
    expect(releaseExpiry(release, new Date('2026-07-19T00:00:00Z'))).toMatch(/expired at 2026-07-18T10:16:37.000Z.*now 2026-07-19/);
    expect(releaseExpiry(parseRelease(`Suite: x\nSHA256:\n ${HASH} 1 a\n`), new Date('2100-01-01'))).toBeNull();
  });

  it('refuses a Release without hashes or with malformed entries', () => {
    expect(() => parseRelease('Suite: x\nMD5Sum:\n abc 1 a\n')).toThrow(/no SHA256/);
    expect(() => parseRelease('Suite: x\nSHA256:\n nothex 1 a\n')).toThrow(/malformed SHA256 entry/);
    expect(() => parseRelease(`Date: someday\nSHA256:\n ${HASH} 1 a\n`)).toThrow(/malformed Date/);
  });
});
