import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeNix32, encodeNix32, nix32Length } from '../../../../src/sources/binary-cache/nix-base32.js';
import { parseSha256, toNix32Hash, toSriHash } from '../../../../src/sources/binary-cache/nix-hash.js';
import { HELLO_NAR, HELLO_NARINFO } from './nix-fixtures.js';

const EMPTY_SHA256 = createHash('sha256').update('').digest();

describe('nix32', () => {
  it('encodes as Nix does (nix hash to-base32)', () => {
    expect(encodeNix32(EMPTY_SHA256)).toBe('0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73');
    expect(nix32Length(20)).toBe(32);
    expect(nix32Length(32)).toBe(52);
  });

  it('round-trips any bytes', () => {
    for (let length = 1; length <= 33; length++) {
      const bytes = createHash('sha512').update(String(length)).digest().subarray(0, length);
      expect(decodeNix32(encodeNix32(bytes), length)).toEqual(bytes);
    }
  });

  it('rejects bad characters, lengths and overflowing bits', () => {
    expect(() => decodeNix32('e'.repeat(52), 32)).toThrow(/invalid nix32/);
    expect(() => decodeNix32('0'.repeat(51), 32)).toThrow(/must have 52/);
    // The top digit of a 52-character sha256 carries 4 bits; "z" (31) sets a fifth.
    expect(() => decodeNix32(`z${'0'.repeat(51)}`, 32)).toThrow(/bits beyond/);
  });
});

describe('sha256 notations', () => {
  const digest = createHash('sha256').update(HELLO_NAR).digest();

  it('reads the narinfo form and agrees with the NAR', () => {
    const narHash = /NarHash: (\S+)/.exec(HELLO_NARINFO)?.[1] as string;
    expect(parseSha256(narHash).digest).toEqual(digest);
    expect(toNix32Hash({ digest })).toBe(narHash);
  });

  it('reads SRI, hex and base64, and writes SRI like nix path-info --json', () => {
    const sri = `sha256-${digest.toString('base64')}`;
    expect(parseSha256(sri).digest).toEqual(digest);
    expect(parseSha256(`sha256:${digest.toString('hex')}`).digest).toEqual(digest);
    expect(parseSha256(`sha256:${digest.toString('base64')}`).digest).toEqual(digest);
    expect(toSriHash({ digest })).toBe(sri);
  });

  it('refuses other algorithms and garbage', () => {
    expect(() => parseSha256('md5:abc')).toThrow();
    expect(() => parseSha256('sha256:xyz')).toThrow();
    expect(() => parseSha256('sha512-aaaa')).toThrow();
  });
});
