import type { DirectoryListing, StoreEntry } from '../types.js';

/**
 * Reading a directory out of a cache's `.ls` file: the JSON listing `nix copy` writes next to a
 * narinfo with `write-nar-listing=1`:
 * `{"version":1,"root":{"type":"directory","entries":{"bin":{"type":"directory","entries":{...}}}}}`,
 * where a node's type is `directory`, `regular` or `symlink`.
 *
 * Returns the listing of `parts` (path components below the store path), sorted by name bytes;
 * null when the path is absent or not a directory; undefined when the listing is unusable (bad
 * JSON, an unknown version, an invalid name), so that the caller walks the NAR instead.
 */
export function directoryFromListing(json: string, parts: readonly string[]): DirectoryListing | null | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || parsed.version !== 1) return undefined;
  let node: unknown = parsed.root;
  for (const part of parts) {
    if (!isObject(node) || node.type !== 'directory' || !isObject(node.entries)) return isObject(node) ? null : undefined;
    if (!Object.prototype.hasOwnProperty.call(node.entries, part)) return null;
    node = node.entries[part];
  }
  if (!isObject(node)) return undefined;
  if (node.type !== 'directory') return null;
  if (!isObject(node.entries)) return undefined;
  const listing: Array<{ name: string; kind: StoreEntry['kind'] }> = [];
  for (const [name, child] of Object.entries(node.entries)) {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return undefined;
    const kind = isObject(child) ? KINDS[String(child.type)] : undefined;
    if (!kind) return undefined;
    listing.push({ name, kind });
  }
  return listing.sort((a, b) => Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8')));
}

const KINDS: Readonly<Record<string, StoreEntry['kind']>> = { directory: 'directory', regular: 'file', symlink: 'symlink' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
