import { decodeNix32, encodeNix32, nix32Length } from './nix-base32.js';

/** A SHA-256 hash as Nix writes it, decoded. Nix binary caches only use SHA-256 for NARs. */
export interface Sha256Hash {
  readonly digest: Buffer;
}

const SHA256_BYTES = 32;

/**
 * Parse a SHA-256 hash in any of Nix's notations: `sha256:<nix32>` (narinfo), `sha256:<hex>`,
 * `sha256:<base64>` and SRI `sha256-<base64>` (`nix path-info --json`).
 * @throws Error naming the problem; callers wrap it in their own domain error.
 */
export function parseSha256(text: string): Sha256Hash {
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(text);
  if (sri) return { digest: Buffer.from(sri[1] as string, 'base64') };
  const match = /^sha256:(.+)$/.exec(text);
  if (!match) throw new Error(`${JSON.stringify(text)} is not a sha256 hash`);
  const body = match[1] as string;
  if (body.length === nix32Length(SHA256_BYTES)) return { digest: decodeNix32(body, SHA256_BYTES) };
  if (/^[0-9a-f]{64}$/.test(body)) return { digest: Buffer.from(body, 'hex') };
  if (/^[A-Za-z0-9+/]{43}=$/.test(body)) return { digest: Buffer.from(body, 'base64') };
  throw new Error(`${JSON.stringify(text)} is not a sha256 hash`);
}

/** `sha256:<nix32>`: the form narinfo files and signature fingerprints use. */
export function toNix32Hash(hash: Sha256Hash): string {
  return `sha256:${encodeNix32(hash.digest)}`;
}

/**
 * `sha256-<base64>`: the form `nix path-info --json` reports, so that the binary-cache source's
 * StorePathInfo.narHash equals the Nix source's for the same store path and layer cache keys
 * (which include it) are shared between the two sources.
 */
export function toSriHash(hash: Sha256Hash): string {
  return `sha256-${hash.digest.toString('base64')}`;
}
