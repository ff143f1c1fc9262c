import type { StorePathInfo } from '../types.js';
import { BuildFailedError } from '../errors.js';

/**
 * Parse `nix path-info --json` output. Nix 2.8 prints an array of objects with a `path` field;
 * Nix 2.19 and later print an object keyed by store path. Both are accepted.
 */
export function parsePathInfo(stdout: string): StorePathInfo[] {
  const parsed: unknown = JSON.parse(stdout);
  const entries: Array<[string, unknown]> = Array.isArray(parsed)
    ? parsed.map((item: unknown) => [String((item as { path?: unknown }).path), item])
    : Object.entries((parsed ?? {}) as Record<string, unknown>);
  return entries
    .map(([path, raw]) => toInfo(path, raw))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function toInfo(path: string, raw: unknown): StorePathInfo {
  const item = (raw ?? {}) as { narSize?: unknown; narHash?: unknown; references?: unknown; valid?: unknown };
  if (item.valid === false || typeof item.narSize !== 'number' || !Array.isArray(item.references)) {
    throw new BuildFailedError(`store path ${path} is not valid after realisation`, '');
  }
  return {
    path,
    narSize: item.narSize,
    ...(typeof item.narHash === 'string' ? { narHash: item.narHash } : {}),
    references: item.references.map(String).sort(),
  };
}
