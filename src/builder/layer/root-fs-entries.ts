import type { RootFsEntry, RootFsReader } from '../../sources/types.js';
import type { TarEntry, TarOwner } from './tar-entry.js';

/** Mode of a parent directory a package implies but does not list (Debian ships them 0755). */
const IMPLIED_DIRECTORY_MODE = 0o755;
const ROOT: TarOwner = { uid: 0, gid: 0 };

/**
 * Tar entries of a root-filesystem layer: each package of `paths` in byte order of its id,
 * and each package's entries in its own tar's order (fixed by the package's verified bytes,
 * so the same packages always give the same layer). Files sit at their real paths. A
 * directory several packages ship (`usr/`, `usr/share/doc/`) is written once per layer with
 * the mode and owner the first package gives it (Debian ships them 0755 root), so layers
 * agree on shared parents and overlay filesystems merge them. Modes keep setuid/setgid bits;
 * owners are the numeric ids the package ships (Debian's static ids, almost always 0:0).
 * Files are never linked by content: a package's own hard links are kept as they are.
 */
export async function* rootFsTarEntries(reader: RootFsReader, paths: readonly string[], signal: AbortSignal): AsyncGenerator<TarEntry> {
  const directories = new Set<string>();
  for (const path of sortPaths(paths)) {
    for await (const entry of reader.entries(path, signal)) {
      checkName(entry.path, path);
      yield* impliedParents(entry.path, directories);
      if (entry.kind === 'directory') {
        if (directories.has(entry.path)) continue;
        directories.add(entry.path);
      }
      yield toTarEntry(entry);
    }
  }
}

/** Paths in byte order without duplicates. */
export function sortPaths(paths: readonly string[]): string[] {
  return [...new Set(paths)].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function* impliedParents(name: string, directories: Set<string>): Generator<TarEntry> {
  const parts = name.split('/');
  for (let depth = 1; depth < parts.length; depth++) {
    const parent = parts.slice(0, depth).join('/');
    if (directories.has(parent)) continue;
    directories.add(parent);
    yield { kind: 'directory', name: parent, mode: IMPLIED_DIRECTORY_MODE, owner: ROOT };
  }
}

function toTarEntry(entry: RootFsEntry): TarEntry {
  const owner: TarOwner = { uid: entry.uid, gid: entry.gid };
  switch (entry.kind) {
    case 'directory':
      return { kind: 'directory', name: entry.path, mode: entry.mode, owner };
    case 'symlink':
      return { kind: 'symlink', name: entry.path, target: entry.target, owner };
    case 'hardlink':
      checkName(entry.target, entry.path);
      return { kind: 'hardlink', name: entry.path, target: entry.target, mode: entry.mode, owner };
    case 'file':
      return { kind: 'file', name: entry.path, mode: entry.mode, size: entry.size, content: () => entry.open(), linkable: false, owner };
  }
}

/** A reader bug must not write outside the root or produce names a tar cannot hold safely. */
function checkName(name: string, context: string): void {
  const parts = name.split('/');
  if (name === '' || name.startsWith('/') || parts.some((part) => part === '' || part === '.' || part === '..') || name.includes('\0')) {
    throw new Error(`root-fs reader yielded ${JSON.stringify(name)} while reading ${context}`);
  }
}
