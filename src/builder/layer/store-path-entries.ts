import type { StoreEntry, StoreReader } from '../../sources/types.js';
import {
  STORE_DIRECTORY_MODE,
  STORE_EXECUTABLE_MODE,
  STORE_FILE_MODE,
  STORE_PARENT_MODE,
  tarName,
  type TarEntry,
} from './tar-entry.js';

/** Store directory every store-path layer lives under; the layout OCI images of Nix expect. */
const STORE_DIR = '/nix/store';

/**
 * Tar entries of a store-path layer: `nix/` and `nix/store/`, then each store path's entries
 * in NAR order. `storePaths` must come from {@link sortStorePaths}.
 * @throws Error when the reader yields an entry outside the store path being read.
 */
export async function* storePathTarEntries(
  reader: StoreReader,
  storePaths: readonly string[],
  signal: AbortSignal,
): AsyncGenerator<TarEntry> {
  yield { kind: 'directory', name: 'nix', mode: STORE_PARENT_MODE };
  yield { kind: 'directory', name: 'nix/store', mode: STORE_PARENT_MODE };
  for (const storePath of storePaths) {
    for await (const entry of reader.entries(storePath, signal)) {
      checkWithin(entry.path, storePath);
      yield toTarEntry(entry);
    }
  }
}

/**
 * Store paths in byte order without duplicates, each checked to be a direct store child.
 * @throws Error on a path that is not `/nix/store/<name>`.
 */
export function sortStorePaths(storePaths: readonly string[]): string[] {
  for (const storePath of storePaths) {
    const name = storePath.startsWith(`${STORE_DIR}/`) ? storePath.slice(STORE_DIR.length + 1) : '';
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new Error(`not a store path directly under ${STORE_DIR}: ${JSON.stringify(storePath)}`);
    }
  }
  const unique = [...new Set(storePaths)];
  return unique.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function toTarEntry(entry: StoreEntry): TarEntry {
  const name = tarName(entry.path);
  switch (entry.kind) {
    case 'directory':
      return { kind: 'directory', name, mode: STORE_DIRECTORY_MODE };
    case 'symlink':
      return { kind: 'symlink', name, target: entry.target };
    case 'file': {
      const { reopen } = entry;
      return {
        kind: 'file',
        name,
        mode: entry.executable ? STORE_EXECUTABLE_MODE : STORE_FILE_MODE,
        size: entry.size,
        // Bytes already in hand go to the tar as they are: no stream, no copy.
        content: entry.bytes ?? ((signal) => entry.open(signal)),
        linkable: true,
        ...(reopen ? { readAgain: reopen } : {}),
      };
    }
  }
}

/** A reader bug must not be able to place files outside the store path it was asked for. */
function checkWithin(entryPath: string, storePath: string): void {
  if (entryPath === storePath) return;
  const inside = entryPath.startsWith(storePath) && entryPath[storePath.length] === '/';
  if (!inside || UNSAFE_PATH.test(entryPath.slice(storePath.length))) {
    throw new Error(`store reader yielded ${JSON.stringify(entryPath)} while reading ${storePath}`);
  }
}

/** An empty, `.` or `..` component, or a trailing slash, in `/a/b`-shaped text. */
const UNSAFE_PATH = /\/(?:\.{1,2})?(?:\/|$)/;
