import { createHash, type Hash } from 'node:crypto';

/**
 * Digests as the OCI image spec defines them: `algorithm:encoded`. Stowage writes sha256 only
 * and accepts sha512 where a client names one.
 */
const DIGEST_PATTERNS: Readonly<Record<string, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** Loose shape of any digest: the grammar of the image spec, before algorithm checks. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** True when `value` has the general shape of a digest (it may still use an unknown algorithm). */
export function looksLikeDigest(value: string): boolean {
  return DIGEST_GRAMMAR.test(value);
}

/** True when `value` is a digest with a supported algorithm and a well-formed encoding. */
export function isValidDigest(value: string): boolean {
  const colon = value.indexOf(':');
  if (colon <= 0) return false;
  const pattern = DIGEST_PATTERNS[value.slice(0, colon)];
  return pattern !== undefined && pattern.test(value.slice(colon + 1));
}

/** The hex part of a digest (`sha256:abc…` → `abc…`). */
export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** sha256 digest of a buffer or string. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A running sha256 whose digest is formatted the OCI way. */
export class Sha256 {
  private readonly hash: Hash = createHash('sha256');

  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
