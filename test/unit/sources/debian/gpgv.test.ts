import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureError, verifyClearsigned } from '../../../../src/sources/debian/archive/gpgv.js';
import { makeSigningKey, type TestSigningKey } from '../../../support/debian-archive-fixtures.js';

describe('gpgv verification of clear-signed files', () => {
  let key: TestSigningKey;
  let stranger: TestSigningKey;

  beforeAll(async () => {
    key = await makeSigningKey();
    stranger = await makeSigningKey('Someone Else');
  });
  afterAll(async () => {
    await key.cleanup();
    await stranger.cleanup();
  });

  it('returns exactly the signed text, with dash-escaping undone', async () => {
    const text = 'Suite: test\n- a line starting with a dash\nSHA256:\n';
    const signed = await key.clearsign(text);
    const verified = await verifyClearsigned(signed, { keyrings: [key.keyring] });
    expect(verified.text).toBe(text);
    expect(verified.signers).toHaveLength(1);
    expect(verified.signers[0]).toMatch(/^[0-9A-F]{40}$/);
  });

  it('never returns text outside the signed block', async () => {
    const signed = await key.clearsign('Suite: test\n');
    const smuggled = Buffer.concat([Buffer.from('SHA256:\n ' + 'f'.repeat(64) + ' 1 evil\n\n'), signed, Buffer.from('\nSHA256:\n evil\n')]);
    const verified = await verifyClearsigned(smuggled, { keyrings: [key.keyring] });
    expect(verified.text).toBe('Suite: test\n');
  });

  it('refuses a tampered byte of the signed text', async () => {
    const signed = await key.clearsign('Suite: test\nDate: today\n');
    const tampered = Buffer.from(signed.toString('utf8').replace('Date: today', 'Date: todaY'));
    await expect(verifyClearsigned(tampered, { keyrings: [key.keyring] })).rejects.toThrow(/bad signature/);
  });

  it('refuses a signature by a key outside the keyring, and unsigned input', async () => {
    const signed = await stranger.clearsign('Suite: test\n');
    await expect(verifyClearsigned(signed, { keyrings: [key.keyring] })).rejects.toBeInstanceOf(SignatureError);
    await expect(verifyClearsigned(signed, { keyrings: [key.keyring] })).rejects.toThrow(/no signature by a trusted key/);
    await expect(verifyClearsigned(Buffer.from('Suite: test\n'), { keyrings: [key.keyring] })).rejects.toBeInstanceOf(SignatureError);
  });

  it('accepts a file when one of several keyrings holds the signer', async () => {
    const signed = await key.clearsign('Suite: test\n');
    const verified = await verifyClearsigned(signed, { keyrings: [stranger.keyring, key.keyring] });
    expect(verified.text).toBe('Suite: test\n');
  });

  it('refuses a good signature by an expired key, and one over a weak hash', async () => {
    const expired = await makeSigningKey({ uid: 'Expired Key', expire: '1d', fakedTime: '20200101T000000!' });
    const weak = await makeSigningKey({ uid: 'Weak Hash Key', algorithm: 'rsa2048', digest: 'SHA1' });
    try {
      const old = await expired.clearsign('Suite: test\n');
      await expect(verifyClearsigned(old, { keyrings: [expired.keyring] })).rejects.toThrow(/unusable signature \(EXPKEYSIG/);
      const sha1 = await weak.clearsign('Suite: test\n');
      await expect(verifyClearsigned(sha1, { keyrings: [weak.keyring] })).rejects.toThrow(/weak hash algorithm \(2\)/);
    } finally {
      await expired.cleanup();
      await weak.cleanup();
    }
  }, 60_000);

  it('names a missing gpgv plainly', async () => {
    await expect(verifyClearsigned(Buffer.from('x'), { gpgv: '/nonexistent/gpgv' })).rejects.toThrow(/\/nonexistent\/gpgv is not installed/);
  });

  it('drains a large signed text without blocking on a full pipe', async () => {
    const text = `${'Field: value value value value value\n'.repeat(60_000)}`;
    const verified = await verifyClearsigned(await key.clearsign(text), { keyrings: [key.keyring] });
    expect(verified.text.length).toBe(text.length);
  });
});
