import { Readable } from 'node:stream';
import type { RootFsEntry } from '../types.js';
import type { DebianPackage } from './types.js';

/** Where dpkg keeps each installed package's file list and checksums. */
export const DPKG_INFO_DIR = 'var/lib/dpkg/info';

/**
 * The name dpkg gives a package's files under /var/lib/dpkg/info: `<name>` for most packages,
 * `<name>:<arch>` for `Multi-Arch: same` ones (libc6:amd64.list), as dpkg itself writes them.
 */
export function dpkgInfoName(pkg: Pick<DebianPackage, 'name' | 'architecture' | 'multiArch'>): string {
  return pkg.multiArch === 'same' ? `${pkg.name}:${pkg.architecture}` : pkg.name;
}

/**
 * `<pkg>.list` as dpkg writes it on unpacking: every member of the data tar in tar order, as
 * an absolute path without a trailing slash, the root as `/.`. Paths are the ones the package
 * ships (`/bin/bash`), not their usr-merged places, exactly as on a Debian 12 system, so
 * `dpkg -S /bin/bash` answers as it does there.
 */
export function dpkgListText(tarNames: readonly string[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const name of tarNames) {
    const parts = name.split('/').filter((part) => part !== '' && part !== '.');
    const line = parts.length === 0 ? '/.' : `/${parts.join('/')}`;
    if (seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  if (!seen.has('/.')) lines.unshift('/.');
  return `${lines.join('\n')}\n`;
}

/**
 * The info files dpkg would have left for one unpacked package: its `.list`, and its
 * `.md5sums` (the control tar's `md5sums`, verbatim) when the package ships one. They go into
 * the package's own layer, so they depend only on the `.deb`, like the rest of that layer.
 */
export function dpkgInfoEntries(pkg: DebianPackage, tarNames: readonly string[], md5sums: string | null): RootFsEntry[] {
  const base = `${DPKG_INFO_DIR}/${dpkgInfoName(pkg)}`;
  const files: Array<[string, string]> = [[`${base}.list`, dpkgListText(tarNames)]];
  if (md5sums !== null) files.push([`${base}.md5sums`, md5sums]);
  return files.map(([path, text]) => {
    const bytes = Buffer.from(text, 'utf8');
    return { kind: 'file', path, mode: 0o644, uid: 0, gid: 0, size: bytes.length, open: () => Readable.from([bytes]) };
  });
}
