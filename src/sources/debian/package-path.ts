import type { DebianPackage } from './types.js';

/**
 * The closure "path" of a Debian package: `/debian/<name>_<version>_<arch>`, one per (name,
 * version, architecture), so the same package version is the same path (and the same layer)
 * in every image and revision. Debian names use `[a-z0-9+.-]` and versions add `:` and `~`;
 * everything outside `[A-Za-z0-9+.~-]` is written `%xx`, so the id is one path component
 * and `_` only ever separates the three parts.
 */
export const DEBIAN_PATH_PREFIX = '/debian/';

export function debianPathOf(pkg: Pick<DebianPackage, 'name' | 'version' | 'architecture'>): string {
  return `${DEBIAN_PATH_PREFIX}${[pkg.name, pkg.version, pkg.architecture].map(escape).join('_')}`;
}

function escape(part: string): string {
  return part.replace(/[^A-Za-z0-9+.~-]/g, (char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
