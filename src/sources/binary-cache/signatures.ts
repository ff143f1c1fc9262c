import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { narInfoFingerprint, type NarInfo } from './nar-info.js';

/** A public key as Nix writes it: `<name>:<base64 of the 32-byte ed25519 key>`. */
export interface TrustedKey {
  readonly name: string;
  readonly key: KeyObject;
}

/** A malformed trusted public key in the configuration. */
export class InvalidPublicKeyError extends Error {
  constructor(text: string, reason: string) {
    super(`invalid public key ${JSON.stringify(text)}: ${reason}`);
    this.name = 'InvalidPublicKeyError';
  }
}

/** @throws InvalidPublicKeyError */
export function parsePublicKey(text: string): TrustedKey {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new InvalidPublicKeyError(text, 'expected <name>:<base64 key>');
  const name = text.slice(0, colon);
  const raw = Buffer.from(text.slice(colon + 1), 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== text.slice(colon + 1)) {
    throw new InvalidPublicKeyError(text, 'the key is not 32 bytes of base64');
  }
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  return { name, key };
}

export type SignatureCheck = { readonly trusted: true; readonly keyName: string } | { readonly trusted: false; readonly reason: string };

/**
 * Whether a narinfo carries a valid signature by one of `keys`: Nix's rule (any one trusted,
 * valid signature suffices; signatures by unknown keys are ignored). The signed message is
 * the narinfo's fingerprint, so the signature covers the store path, NarHash, NarSize and
 * references, but not the URL, compression or file hash.
 */
export function checkSignatures(info: NarInfo, keys: readonly TrustedKey[]): SignatureCheck {
  if (info.signatures.length === 0) return { trusted: false, reason: 'it has no signature' };
  const fingerprint = Buffer.from(narInfoFingerprint(info), 'utf8');
  let byTrustedKey = false;
  for (const signature of info.signatures) {
    const colon = signature.indexOf(':');
    if (colon <= 0) continue;
    const name = signature.slice(0, colon);
    const bytes = Buffer.from(signature.slice(colon + 1), 'base64');
    for (const key of keys) {
      if (key.name !== name) continue;
      byTrustedKey = true;
      if (bytes.length === 64 && verify(null, fingerprint, key.key, bytes)) return { trusted: true, keyName: name };
    }
  }
  return {
    trusted: false,
    reason: byTrustedKey ? 'its signature does not verify' : `no signature by a trusted key (signed by ${info.signatures.map((sig) => sig.split(':')[0]).join(', ')})`,
  };
}
