import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, versionSatisfies } from '../../../../src/sources/debian/resolve/version.js';
import { dpkgCompare, seededRandom } from '../../../support/dpkg-compare.js';

describe('dpkg version comparison', () => {
  it('splits epoch, upstream and revision at the first colon and the last hyphen', () => {
    expect(parseVersion('1:2.39.5-0+deb12u2')).toEqual({ epoch: 1, upstream: '2.39.5', revision: '0+deb12u2' });
    expect(parseVersion('7.88.1-10+deb12u12')).toEqual({ epoch: 0, upstream: '7.88.1', revision: '10+deb12u12' });
    expect(parseVersion('1.2-3-4')).toEqual({ epoch: 0, upstream: '1.2-3', revision: '4' });
    expect(parseVersion('2.0')).toEqual({ epoch: 0, upstream: '2.0', revision: '' });
  });

  it('orders as deb-version(7) documents: ~~ < ~~a < ~ < the empty part < a', () => {
    const ordered = ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a'];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareVersions(ordered[i] as string, ordered[j] as string)), `${ordered[i]} vs ${ordered[j]}`).toBe(Math.sign(i - j));
      }
    }
  });

  it.each([
    ['1.0', '1.0', 0],
    ['0:1.0', '1.0', 0],
    ['1.0-0', '1.0', 0],
    ['001', '1', 0],
    ['1.0', '2.0', -1],
    ['1:1.0', '9.0', 1],
    ['1.0-1', '1.0-2', -1],
    ['1.0', '1.0-1', -1],
    ['1.0~rc1', '1.0', -1],
    ['1.0+dfsg', '1.0', 1],
    ['1.0.1', '1.0', 1],
    ['1.10', '1.9', 1],
    ['1.0a', '1.0+', -1],
    ['2.39.5-0+deb12u2', '2.39.2-1.1', 1],
    ['7.88.1-10+deb12u12', '7.88.1-10+deb12u5', 1],
    ['2.36-9+deb12u10', '2.36-9', 1],
    ['1:2.4.44', '2.4.48', 1],
  ])('%s vs %s = %d', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(expected === 0 ? 0 : -expected);
  });

  it('evaluates the five operators', () => {
    expect(versionSatisfies('2.36-9', '>=', '2.34')).toBe(true);
    expect(versionSatisfies('2.36-9', '<<', '2.36-9')).toBe(false);
    expect(versionSatisfies('2.36-9', '<=', '2.36-9')).toBe(true);
    expect(versionSatisfies('2.36-9', '=', '2.36-9')).toBe(true);
    expect(versionSatisfies('2.36-9', '>>', '2.36')).toBe(true);
    expect(versionSatisfies('2.36~rc', '>>', '2.36')).toBe(false);
  });

  it('agrees with dpkg --compare-versions on random pairs of this machine\'s installed versions', async () => {
    const status = await readFile('/var/lib/dpkg/status', 'utf8');
    const versions = [...new Set([...status.matchAll(/^Version: (.+)$/gm)].map((m) => m[1] as string))];
    expect(versions.length).toBeGreaterThan(100);
    const random = seededRandom(13);
    const pick = (): string => versions[Math.floor(random() * versions.length)] as string;
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < 300; i++) {
      const a = pick();
      // Every fourth pair shares a prefix, where the interesting differences are.
      pairs.push([a, i % 4 === 0 ? `${a.slice(0, Math.max(1, a.length - 2))}${pick().slice(-2)}` : pick()]);
    }
    const expected = await dpkgCompare(pairs);
    expect(pairs.map(([a, b]) => compareVersions(a, b))).toEqual(expected);
  });
});
