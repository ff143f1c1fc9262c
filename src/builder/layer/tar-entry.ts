import type { Readable } from 'node:stream';

/**
 * One entry of a layer tarball, before encoding. Names are relative (`nix/store/...`), never
 * start with `/`, and directories carry no trailing slash here (the encoder adds it).
 */
export type TarEntry =
  | { readonly kind: 'directory'; readonly name: string; readonly mode: number; readonly owner?: TarOwner }
  | { readonly kind: 'symlink'; readonly name: string; readonly target: string; readonly owner?: TarOwner }
  /** A hard link to an earlier entry of the same layer, as a package's own tar has it. */
  | { readonly kind: 'hardlink'; readonly name: string; readonly target: string; readonly mode: number; readonly owner?: TarOwner }
  | {
      readonly kind: 'file';
      readonly name: string;
      readonly mode: number;
      readonly size: number;
      /** Inline bytes, or a function streaming exactly `size` bytes (may be called twice). */
      readonly content: Buffer | ((signal: AbortSignal) => Readable);
      /** True when the file may be stored as a hard link to an earlier identical file. */
      readonly linkable: boolean;
      /** Streams the same bytes again after later entries were read (see StoreEntry.reopen). */
      readonly readAgain?: (signal: AbortSignal) => Readable;
      readonly owner?: TarOwner;
    };

/** Numeric owner of an entry; names are never written (uname/gname stay empty). */
export interface TarOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Modification time of every entry: 1 s after the epoch, as Nix sets it in the store, so that
 * files look the same inside and outside containers and tarballs don't depend on build time.
 */
export const ENTRY_MTIME = new Date(1000);

/** Modes of the NAR model: read-only store objects, executable bit kept for files. */
export const STORE_DIRECTORY_MODE = 0o555;
export const STORE_EXECUTABLE_MODE = 0o555;
export const STORE_FILE_MODE = 0o444;
export const SYMLINK_MODE = 0o777;
/** Mode of `nix/` and `nix/store/`: writable by root like any system directory. */
export const STORE_PARENT_MODE = 0o755;

/** A store path or entry path (`/nix/store/...`) as a relative tar name (`nix/store/...`). */
export function tarName(absolutePath: string): string {
  return absolutePath.replace(/^\/+/, '');
}

/**
 * Compares two relative tar names the way NAR orders a tree: component by component, each
 * compared by its UTF-8 bytes, so a directory sorts before everything inside it.
 */
export function compareTreeOrder(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  const shared = Math.min(left.length, right.length);
  for (let i = 0; i < shared; i++) {
    const order = Buffer.compare(Buffer.from(left[i] ?? '', 'utf8'), Buffer.from(right[i] ?? '', 'utf8'));
    if (order !== 0) return order;
  }
  return left.length - right.length;
}
