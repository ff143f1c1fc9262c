import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import type { DirectoryListing, StoreEntry, StoreReader } from '../types.js';
import type { BinaryCache } from './binary-cache.js';
import { BinaryCacheIntegrityError, isBinaryCacheError } from './errors.js';
import { NarFileContent, type CaptureMode } from './nar-file.js';
import { NarInput } from './nar-input.js';
import type { NarInfo } from './nar-info.js';
import { directoryFromListing } from './nar-listing.js';
import { parseNar } from './nar-parser.js';
import { decompressListing } from './listing-bytes.js';
import { STORE_DIR, isStorePath } from './store-path.js';
import { symlinkProblem } from './symlink-policy.js';

export interface BinaryCacheStoreReaderOptions {
  /** Accept symlinks whose targets leave /nix/store (see symlinkProblem). */
  readonly allowExternalSymlinks: boolean;
  /** Answer `list()` from the cache's unsigned `.ls` files when there are any. */
  readonly useListings: boolean;
  /** Where big files kept for a second read are spilled. */
  readonly tmpDir?: string;
  /** Files up to this size are kept in memory for a second read; bigger ones go to disk. */
  readonly memoryCaptureBytes?: number;
}

/** File sizes remembered to decide whether a file may be read twice. */
const SEEN_SIZES_LIMIT = 1 << 18;
/** Directory entries remembered from NARs walked in full (and verified), over all store paths. */
const REMEMBERED_ENTRIES_LIMIT = 200_000;
/** Store paths with more entries than this are not remembered at all. */
const TREE_ENTRIES_LIMIT = 20_000;

/**
 * Reads store paths straight out of a binary cache: each `entries()` call downloads the NAR,
 * decompresses it and parses it on the fly, in constant memory and without touching the disk,
 * yielding entries in NAR order, the order the local store reader uses, so that both give
 * byte-identical layers.
 *
 * Verification: the narinfo is signed; the NAR's size and hash are checked as it streams and
 * at its end, where the iterator throws instead of finishing when they differ. Everything a
 * layer writer did with the earlier entries is then discarded with the failed layer.
 *
 * Reading a file twice: the layer writer re-reads a file when an earlier file in the layer had
 * the same size (to decide on a hard link). The reader remembers the sizes of recent files and
 * keeps a file's bytes while it is read only when its size was seen before, in memory up to
 * `memoryCaptureBytes` and in a spill file beyond; a second read of a file that was not kept
 * downloads the NAR again and skips to the file.
 */
export class BinaryCacheStoreReader implements StoreReader {
  private readonly seenSizes = new Set<number>();
  /** Store path → its directories (relative path → listing), from verified walks; LRU. */
  private readonly trees = new Map<string, WalkedTree>();
  private rememberedEntries = 0;
  private readonly tmpDir: string;
  private readonly memoryCaptureBytes: number;

  constructor(
    private readonly cache: BinaryCache,
    private readonly options: BinaryCacheStoreReaderOptions,
  ) {
    this.tmpDir = options.tmpDir ?? tmpdir();
    this.memoryCaptureBytes = options.memoryCaptureBytes ?? 4 * 1024 * 1024;
  }

  /**
   * @throws BinaryCacheIntegrityError (invalid store path, corrupt or mismatching NAR, unsafe
   *   names or symlinks), NarInfoNotFoundError, UntrustedNarInfoError, BinaryCacheUnavailableError.
   */
  entries(storePath: string, signal?: AbortSignal): AsyncIterable<StoreEntry> {
    return this.walk(storePath, signal ?? new AbortController().signal, (entry) => entry);
  }

  /**
   * From the tree remembered from a verified walk of the store path (layers are built before
   * the top layer lists /bin), else from the cache's `.ls` file when allowed, else by walking
   * the NAR without keeping file contents (which also remembers its tree).
   */
  async list(directory: string, signal?: AbortSignal): Promise<DirectoryListing | null> {
    const { storePath, parts } = splitDirectory(directory, this.cache.url);
    const tree = this.trees.get(storePath);
    if (tree) return tree.directories.get(parts.join('/')) ?? null;
    const abort = signal ?? new AbortController().signal;
    if (this.options.useListings) {
      await this.cache.narInfo(storePath, abort);
      const bytes = await this.cache.narListing(storePath, abort);
      const json = bytes ? await decompressListing(bytes) : null;
      const listing = json === null ? undefined : directoryFromListing(json, parts);
      if (listing !== undefined) return listing;
    }
    const wanted = parts.join('/');
    let found: Array<{ name: string; kind: StoreEntry['kind'] }> | null = null;
    const walk = this.walk(storePath, abort, (entry, relative) => {
      if (relative === wanted && entry.kind === 'directory') found = [];
      const slash = relative.lastIndexOf('/');
      const parent = relative === '' ? undefined : slash < 0 ? '' : relative.slice(0, slash);
      if (found && parent === wanted) found.push({ name: relative.slice(slash + 1), kind: entry.kind });
      return entry;
    });
    for await (const entry of walk) void entry;
    return found;
  }

  private async *walk(storePath: string, signal: AbortSignal, observe: (entry: StoreEntry, relative: string) => StoreEntry): AsyncGenerator<StoreEntry> {
    if (!isStorePath(storePath)) throw new BinaryCacheIntegrityError(this.cache.url, storePath, 'not a valid store path');
    const info = await this.cache.narInfo(storePath, signal);
    const { stream, digest } = await this.cache.openNar(info, signal);
    const fail = (reason: string): Error => new BinaryCacheIntegrityError(this.cache.url, storePath, reason);
    const input = new NarInput(stream[Symbol.asyncIterator](), { size: info.narSize, sha256: info.narHash.digest }, fail, digest);
    const recorder = new TreeRecorder();
    let current: NarFileContent | undefined;
    try {
      for await (const event of parseNar(input)) {
        await current?.release();
        current = undefined;
        signal.throwIfAborted();
        const path = event.path === '' ? storePath : `${storePath}/${event.path}`;
        let entry: StoreEntry;
        if (event.kind === 'directory') {
          entry = { kind: 'directory', path };
        } else if (event.kind === 'symlink') {
          const problem = symlinkProblem(path, event.target, this.options.allowExternalSymlinks);
          if (problem !== null) throw fail(problem);
          entry = { kind: 'symlink', path, target: event.target };
        } else {
          const content = new NarFileContent(input, event.size, event.offset, this.captureMode(event.size), this.tmpDir, (offset, size) => this.refetch(info, offset, size, signal));
          current = content;
          entry = { kind: 'file', path, size: event.size, executable: event.executable, open: () => content.open() };
        }
        recorder.add(event.path, entry.kind);
        yield observe(entry, event.path);
      }
      // parseNar has checked NarSize and NarHash: what was seen is what was signed.
      const tree = recorder.tree();
      if (tree) this.remember(storePath, tree);
    } catch (error) {
      if (isBinaryCacheError(error)) this.cache.forget(storePath);
      throw error;
    } finally {
      await current?.release();
      stream.destroy();
    }
  }

  private captureMode(size: number): CaptureMode {
    if (size === 0) return 'none';
    const seen = this.seenSizes.has(size);
    if (!seen) {
      this.seenSizes.add(size);
      if (this.seenSizes.size > SEEN_SIZES_LIMIT) this.seenSizes.delete(this.seenSizes.values().next().value as number);
      return 'none';
    }
    return size <= this.memoryCaptureBytes ? 'memory' : 'disk';
  }

  private remember(storePath: string, tree: WalkedTree): void {
    const previous = this.trees.get(storePath);
    if (previous) {
      this.trees.delete(storePath);
      this.rememberedEntries -= previous.entries;
    }
    this.trees.set(storePath, tree);
    this.rememberedEntries += tree.entries;
    while (this.rememberedEntries > REMEMBERED_ENTRIES_LIMIT && this.trees.size > 1) {
      const [oldest, evicted] = this.trees.entries().next().value as [string, WalkedTree];
      this.trees.delete(oldest);
      this.rememberedEntries -= evicted.entries;
    }
  }

  /** `size` bytes at `offset` of a NAR, from a fresh download; used for a second read of a file that was not kept. */
  private refetch(info: NarInfo, offset: number, size: number, signal: AbortSignal): Readable {
    const cache = this.cache;
    return Readable.from(
      (async function* () {
        const { stream } = await cache.openNar(info, signal);
        try {
          let skip = offset;
          let left = size;
          for await (const raw of stream as AsyncIterable<Buffer>) {
            let chunk = raw;
            if (skip >= chunk.length) {
              skip -= chunk.length;
              continue;
            }
            chunk = chunk.subarray(skip, skip + left);
            skip = 0;
            left -= chunk.length;
            yield chunk;
            if (left === 0) return;
          }
          if (left > 0) throw new BinaryCacheIntegrityError(cache.url, info.storePath, 'the NAR ended early when read again');
        } finally {
          stream.destroy();
        }
      })(),
      { objectMode: false },
    );
  }
}

/** Every directory of a store path with its listing, as a verified walk saw it. */
interface WalkedTree {
  /** Relative directory path ('' = the store path itself) → listing in NAR order. */
  readonly directories: ReadonlyMap<string, DirectoryListing>;
  readonly entries: number;
}

/** Collects the listing of every directory during a walk, unless the store path is very large. */
class TreeRecorder {
  private readonly directories = new Map<string, Array<{ name: string; kind: StoreEntry['kind'] }>>();
  private entries = 0;

  add(relative: string, kind: StoreEntry['kind']): void {
    if (this.entries > TREE_ENTRIES_LIMIT) return;
    if (kind === 'directory') this.directories.set(relative, []);
    if (relative === '') return;
    const slash = relative.lastIndexOf('/');
    this.directories.get(slash < 0 ? '' : relative.slice(0, slash))?.push({ name: relative.slice(slash + 1), kind });
    this.entries += 1;
  }

  /** The tree, or undefined when it was too large to keep. */
  tree(): WalkedTree | undefined {
    return this.entries > TREE_ENTRIES_LIMIT ? undefined : { directories: this.directories, entries: this.entries + this.directories.size };
  }
}

function splitDirectory(directory: string, cache: string): { storePath: string; parts: string[] } {
  const [root = '', ...parts] = directory.startsWith(`${STORE_DIR}/`) ? directory.slice(STORE_DIR.length + 1).split('/') : [];
  const storePath = `${STORE_DIR}/${root}`;
  if (!isStorePath(storePath) || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new BinaryCacheIntegrityError(cache, undefined, `${JSON.stringify(directory)} is not a directory path inside a store path`);
  }
  return { storePath, parts };
}
