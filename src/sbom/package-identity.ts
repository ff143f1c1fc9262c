import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { StorePathInfo } from '../sources/types.js';
import { decodeNix32, isNix32 } from '../sources/binary-cache/nix-base32.js';

/** What an SBOM says about one path of a closure, whatever source it came from. */
export interface PackageIdentity {
  /** SPDX element id, unique within the document and stable for the path. */
  readonly spdxId: string;
  readonly name: string;
  readonly version?: string;
  /** Lower-case hex SHA-256, and what it is the hash of (for the package's comment). */
  readonly sha256?: { readonly hex: string; readonly of: 'archive' | 'nar' };
  readonly purl?: string;
}

const NIX_STORE_PATH = /^\/nix\/store\/([0-9abcdfghijklmnpqrsvwxyz]{32})-(.+)$/;

/**
 * Name, version and hash of a closure path. A source that knows them (a Debian package: name,
 * version, the .deb's sha256 and a purl) sets them on StorePathInfo; for a Nix store path they
 * are derived from the path the way Nix does (`builtins.parseDrvName`) and from its narHash.
 */
export function identify(info: StorePathInfo): PackageIdentity {
  const nix = NIX_STORE_PATH.exec(info.path);
  const derived = splitNameVersion(nix?.[2] ?? basename(info.path));
  const name = info.name ?? derived.name;
  const version = info.version ?? derived.version;
  const sha256 = info.sha256 !== undefined ? { hex: info.sha256.toLowerCase(), of: 'archive' as const } : narSha256(info.narHash);
  const id = nix?.[1] ? `SPDXRef-nix-${nix[1]}` : `SPDXRef-path-${createHash('sha256').update(info.path).digest('hex').slice(0, 32)}`;
  return {
    spdxId: id,
    name,
    ...(version !== undefined && version !== '' ? { version } : {}),
    ...(sha256 ? { sha256 } : {}),
    ...(info.purl !== undefined ? { purl: info.purl } : {}),
  };
}

/**
 * Nix's `parseDrvName`: the version starts after the first `-` that is followed by a character
 * that is not a letter (`hello-2.12.1` → hello, 2.12.1; `xz-5.4.3-bin` → xz, 5.4.3-bin;
 * `busybox-static` → busybox-static, no version).
 */
export function splitNameVersion(text: string): { name: string; version?: string } {
  for (let i = 0; i < text.length - 1; i++) {
    if (text[i] === '-' && !/[A-Za-z]/.test(text[i + 1] as string)) return { name: text.slice(0, i), version: text.slice(i + 1) };
  }
  return { name: text };
}

/**
 * The hex SHA-256 in a Nix narHash, which Nix prints as `sha256:<nix32>` (2.8), `sha256:<hex>`
 * or `sha256-<base64>` (SRI, newer Nix); undefined for anything else.
 */
export function narSha256(narHash: string | undefined): { hex: string; of: 'nar' } | undefined {
  if (narHash === undefined) return undefined;
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(narHash);
  if (sri?.[1]) return { hex: Buffer.from(sri[1], 'base64').toString('hex'), of: 'nar' };
  const prefixed = /^sha256:(.+)$/.exec(narHash)?.[1];
  if (prefixed === undefined) return undefined;
  if (/^[0-9a-f]{64}$/.test(prefixed)) return { hex: prefixed, of: 'nar' };
  if (prefixed.length === 52 && isNix32(prefixed)) {
    try {
      return { hex: decodeNix32(prefixed, 32).toString('hex'), of: 'nar' };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
