import { compareTreeOrder, type TarEntry, type TarOwner } from './tar-entry.js';

/**
 * A filesystem object of a layer that does not come from the store, e.g. an image's top
 * layer: `/bin/hello -> /nix/store/...`, `/usr/bin/env`, `/tmp` (mode 01777), `/etc/passwd`.
 * Paths may be written with or without a leading `/`; `.`, `..` and empty components are
 * rejected. Owner defaults to root (0:0).
 */
export type SyntheticEntry =
  | { readonly kind: 'directory'; readonly path: string; readonly mode: number; readonly uid?: number; readonly gid?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string; readonly uid?: number; readonly gid?: number }
  | {
      readonly kind: 'file';
      readonly path: string;
      /** Small inline content; strings are encoded as UTF-8. */
      readonly content: string | Uint8Array;
      readonly mode: number;
      readonly uid?: number;
      readonly gid?: number;
    };

/** Mode of parent directories that the entries imply but do not list. */
const IMPLIED_DIRECTORY_MODE = 0o755;

/**
 * Tar entries for `entries` in tree order (parents before children, siblings by bytes),
 * with missing parent directories added as root-owned 0755 so extraction never invents modes.
 * @throws Error on an invalid path or mode, a path listed twice, or a non-directory parent.
 */
export function syntheticTarEntries(entries: readonly SyntheticEntry[]): TarEntry[] {
  const byName = new Map<string, TarEntry>();
  for (const entry of entries) {
    const name = normalisePath(entry.path);
    if (byName.has(name)) throw new Error(`synthetic layer lists ${JSON.stringify(entry.path)} twice`);
    byName.set(name, toTarEntry(name, entry));
  }
  for (const name of [...byName.keys()]) {
    const parts = name.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join('/');
      const existing = byName.get(parent);
      if (existing === undefined) {
        byName.set(parent, { kind: 'directory', name: parent, mode: IMPLIED_DIRECTORY_MODE });
      } else if (existing.kind !== 'directory') {
        throw new Error(`synthetic layer: parent of ${JSON.stringify(name)} is not a directory`);
      }
    }
  }
  return [...byName.values()].sort((a, b) => compareTreeOrder(a.name, b.name));
}

function toTarEntry(name: string, entry: SyntheticEntry): TarEntry {
  const owner = ownerOf(entry);
  switch (entry.kind) {
    case 'directory':
      return { kind: 'directory', name, mode: checkMode(entry.mode, entry.path), owner };
    case 'symlink':
      if (entry.target === '') throw new Error(`synthetic symlink ${JSON.stringify(entry.path)} has no target`);
      return { kind: 'symlink', name, target: entry.target, owner };
    case 'file': {
      const content = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : Buffer.from(entry.content);
      const mode = checkMode(entry.mode, entry.path);
      return { kind: 'file', name, mode, size: content.length, content, linkable: false, owner };
    }
  }
}

/** `/etc/passwd` → `etc/passwd`; a trailing slash on a directory path is tolerated. */
function normalisePath(path: string): string {
  const name = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const parts = name.split('/');
  if (name === '' || parts.some((part) => part === '' || part === '.' || part === '..') || name.includes('\0')) {
    throw new Error(`invalid synthetic layer path ${JSON.stringify(path)}`);
  }
  return name;
}

function checkMode(mode: number, path: string): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new Error(`invalid mode ${mode} for ${JSON.stringify(path)}`);
  }
  return mode;
}

function ownerOf(entry: SyntheticEntry): TarOwner {
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  for (const id of [uid, gid]) {
    if (!Number.isInteger(id) || id < 0 || id > 0o7777777) throw new Error(`invalid owner id ${id} for ${JSON.stringify(entry.path)}`);
  }
  return { uid, gid };
}
