import { nix32Length } from './nix-base32.js';

/** The only store directory images use: store paths land at the same path inside the image. */
export const STORE_DIR = '/nix/store';

const HASH_CHARS = nix32Length(20);
/** `<32 nix32 chars>-<name>`, with the characters Nix allows in store path names. */
const BASE_NAME = new RegExp(`^[0-9abcdfghijklmnpqrsvwxyz]{${HASH_CHARS}}-[A-Za-z0-9+\\-._?=]{1,211}$`);

/** True for `/nix/store/<hash>-<name>` with a valid hash and name. */
export function isStorePath(path: string): boolean {
  return path.startsWith(`${STORE_DIR}/`) && BASE_NAME.test(path.slice(STORE_DIR.length + 1));
}

/** True for `<hash>-<name>`, a store path's base name as narinfo References list it. */
export function isStoreBaseName(name: string): boolean {
  return BASE_NAME.test(name) && name !== '.' && name !== '..';
}

/** The 32-character hash part, which names the narinfo (`<hash>.narinfo`). */
export function hashPart(storePath: string): string {
  return storePath.slice(STORE_DIR.length + 1, STORE_DIR.length + 1 + HASH_CHARS);
}

/** `/nix/store/<hash>-<name>` → `<hash>-<name>`. */
export function baseName(storePath: string): string {
  return storePath.slice(STORE_DIR.length + 1);
}

/** Store paths in byte order, as Nix sorts reference sets. */
export function compareStorePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
