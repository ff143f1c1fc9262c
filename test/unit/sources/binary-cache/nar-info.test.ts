import { describe, expect, it } from 'vitest';
import { narInfoFingerprint, NarInfoFormatError, parseNarInfo } from '../../../../src/sources/binary-cache/nar-info.js';
import { checkSignatures, parsePublicKey } from '../../../../src/sources/binary-cache/signatures.js';
import { makeKey } from '../../../support/binary-cache-fixtures.js';
import { HELLO_NARINFO, HELLO_PUBLIC_KEY, HELLO_STORE_PATH } from './nix-fixtures.js';

const LIMITS = { maxNarSize: 2 ** 34 };
const parse = (text: string, storePath = HELLO_STORE_PATH) => parseNarInfo(text, storePath, LIMITS);
const withLine = (key: string, value: string | null) =>
  HELLO_NARINFO.split('\n')
    .filter((line) => !line.startsWith(`${key}: `))
    .concat(value === null ? [] : [`${key}: ${value}`])
    .join('\n');

describe('parseNarInfo', () => {
  it('reads every field Nix writes', () => {
    const info = parse(HELLO_NARINFO);
    expect(info.storePath).toBe(HELLO_STORE_PATH);
    expect(info.url).toBe('nar/1sypzi611vvlix1sp94yhcyib6wiv5fi5lsyb9aylnqp5rhq1hdk.nar.zst');
    expect(info.compression).toBe('zstd');
    expect(info.fileSize).toBe(751);
    expect(info.fileHash?.digest).toHaveLength(32);
    expect(info.narSize).toBe(2488);
    expect(info.references).toEqual([
      '/nix/store/lxcwa32har10n4nvqm8xaz7xy4gmfczi-busybox-1.35.0',
      '/nix/store/za8rv1p3pbiwiaszqsa4xsnx7aplj7y3-libgreet-1.0.0',
    ]);
    expect(info.deriver).toBe('/nix/store/ww8s11mhlpxrabz8vlbnpfrqbx3m7rnj-hello-2.12.1.drv');
    expect(info.signatures).toHaveLength(1);
    expect(parse(`${HELLO_NARINFO}System: x86_64-linux\nCA: fixed:r:sha256:abc\n`)).toMatchObject({ system: 'x86_64-linux', ca: 'fixed:r:sha256:abc' });
  });

  it('defaults Compression to bzip2 and ignores unknown fields, as Nix does', () => {
    const info = parse(`${withLine('Compression', null)}\nFutureField: 1\n`);
    expect(info.compression).toBe('bzip2');
  });

  it('accepts an empty References line and no FileHash/FileSize', () => {
    const info = parse(withLine('References', '').replace(/^File(Hash|Size).*\n/gm, ''));
    expect(info.references).toEqual([]);
    expect(info.fileHash).toBeUndefined();
    expect(info.fileSize).toBeUndefined();
  });

  it.each([
    ['a missing NarHash', withLine('NarHash', null), /NarHash is missing/],
    ['a narinfo for another path', HELLO_NARINFO, /describes/, '/nix/store/00000000000000000000000000000000-other'],
    ['an absurd NarSize', withLine('NarSize', String(2 ** 40)), /above the limit/],
    ['a NarSize beyond 2^53', withLine('NarSize', '99999999999999999999'), /above the limit/],
    ['a negative NarSize', withLine('NarSize', '-1'), /not a size/],
    ['NarSize 0', withLine('NarSize', '0'), /NarSize is 0/],
    ['a URL leaving the cache', withLine('URL', '../../etc/passwd'), /not a relative path/],
    ['an absolute URL', withLine('URL', 'https://evil.example/x.nar'), /not a relative path/],
    ['an unknown compression', withLine('Compression', 'lz4'), /unsupported compression/],
    ['a bad reference', withLine('References', '../x'), /not a store path name/],
    ['a repeated field', `${HELLO_NARINFO}NarSize: 1\n`, /appears twice/],
    ['a bad hash', withLine('NarHash', 'sha256:zzzz'), /not a sha256/],
  ])('rejects %s', (_what, text, message, storePath?: string) => {
    expect(() => parse(text, storePath)).toThrow(NarInfoFormatError);
    expect(() => parse(text, storePath)).toThrow(message);
  });
});

describe('signatures', () => {
  it('verifies a signature Nix made (the fingerprint matches Nix)', () => {
    const info = parse(HELLO_NARINFO);
    expect(narInfoFingerprint(info)).toBe(
      '1;/nix/store/i3c4lfdpiza1aj7x20jdsfw0lj1zpvfa-hello-2.12.1;sha256:1m906lbybknjzs5ahc15j2x01mshwv5z1j2kipa9x9hxxpbn3h5q;2488;' +
        '/nix/store/lxcwa32har10n4nvqm8xaz7xy4gmfczi-busybox-1.35.0,/nix/store/za8rv1p3pbiwiaszqsa4xsnx7aplj7y3-libgreet-1.0.0',
    );
    expect(checkSignatures(info, [parsePublicKey(HELLO_PUBLIC_KEY)])).toEqual({ trusted: true, keyName: 'test-1' });
  });

  it('refuses a missing signature, an unknown key and a signature that does not verify', () => {
    const key = parsePublicKey(HELLO_PUBLIC_KEY);
    expect(checkSignatures(parse(withLine('Sig', null)), [key])).toMatchObject({ trusted: false, reason: 'it has no signature' });
    expect(checkSignatures(parse(HELLO_NARINFO), [parsePublicKey(makeKey('other').publicKey)])).toMatchObject({ trusted: false, reason: /no signature by a trusted key/ });
    const tampered = parse(withLine('NarSize', '2489'));
    expect(checkSignatures(tampered, [key])).toMatchObject({ trusted: false, reason: 'its signature does not verify' });
    const otherKeySameName = parsePublicKey(`test-1:${makeKey('x').publicKey.split(':')[1]}`);
    expect(checkSignatures(parse(HELLO_NARINFO), [otherKeySameName])).toMatchObject({ trusted: false });
  });

  it('rejects malformed public keys', () => {
    expect(() => parsePublicKey('no-colon')).toThrow(/name>:<base64/);
    expect(() => parsePublicKey('k:c2hvcnQ=')).toThrow(/32 bytes/);
  });
});
