import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { startModuleWorker } from '../workers/module-worker.js';
import type { RawEntry, WalkerMessage, WalkerRequest } from '../workers/store-walker-protocol.js';
import { WorkerPool } from '../workers/worker-pool.js';
import type { DirectoryListing, StoreEntry, StoreReader } from './types.js';

/** A store path argument that does not name an object directly inside the store directory. */
export class InvalidStorePathError extends Error {
  constructor(readonly storePath: string, reason: string) {
    super(`invalid store path ${JSON.stringify(storePath)}: ${reason}`);
    this.name = 'InvalidStorePathError';
  }
}

/**
 * A filesystem object that a NAR cannot represent (device, fifo, socket), or a name that a
 * string path cannot carry (not valid UTF-8).
 */
export class UnsupportedStoreEntryError extends Error {
  constructor(readonly entryPath: string, readonly reason: string) {
    super(`unsupported store entry ${JSON.stringify(entryPath)}: ${reason}`);
    this.name = 'UnsupportedStoreEntryError';
  }
}

/** Read size for large files: each read is a thread-pool round trip, so fewer, bigger ones. */
const READ_CHUNK_BYTES = 1024 * 1024;
/**
 * Files up to this size travel inside the walk's batches; larger ones are streamed on open().
 * Streaming a file costs an open, reads and a close on the thread pool, each a round trip
 * from the main thread, plus a stream: for files of a few hundred KiB that cost more than
 * reading them on the walker, which does it synchronously while the main thread works.
 */
const INLINE_FILE_BYTES = 1024 * 1024;
/**
 * Limits of one batch of entries from the walker thread. At most two batches per walk are
 * alive (one being written, one read ahead), so memory stays bounded by twice the bytes.
 */
const BATCH_ENTRIES = 1024;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Walker threads kept for reuse: starting one costs tens of milliseconds. */
const MAX_IDLE_WALKERS = 4;

const LIMITS = { batchEntries: BATCH_ENTRIES, batchBytes: BATCH_BYTES, inlineBytes: INLINE_FILE_BYTES };

type Batch = Extract<WalkerMessage, { type: 'batch' }>;

/**
 * Reads store paths from a local store directory, entry by entry in NAR order, lstat-based:
 * symlinks are reported, never followed. The walk runs on a pooled worker thread, one batch
 * ahead of the consumer; files up to 1 MiB come with it, larger ones are streamed on open().
 */
export class LocalStoreReader implements StoreReader {
  /**
   * @param storeDir Real directory holding the store paths (a copy of a store may live
   *   elsewhere, e.g. in tests).
   * @param logicalStoreDir Store directory as it appears in store paths and entry paths.
   */
  constructor(
    private readonly storeDir = '/nix/store',
    private readonly logicalStoreDir = '/nix/store',
  ) {}

  /**
   * Entries of `storePath`, the store path itself first.
   * @throws InvalidStorePathError when `storePath` is not directly inside the logical store dir.
   * @throws UnsupportedStoreEntryError on devices, fifos, sockets and non-UTF-8 names.
   */
  entries(storePath: string, signal?: AbortSignal): AsyncIterable<StoreEntry> {
    const real = path.join(this.storeDir, this.storePathName(storePath));
    return walk(real, storePath, signal);
  }

  /**
   * Names and kinds of the entries of `directory` (the store path itself or a directory inside
   * it), in byte order. lstat-based like `entries`: a symlink to a directory gives null.
   * @throws InvalidStorePathError when `directory` is not inside a store path or has `.`/`..`.
   * @throws UnsupportedStoreEntryError on a child that is not a file, directory or symlink.
   */
  async list(directory: string, signal?: AbortSignal): Promise<DirectoryListing | null> {
    const prefix = `${this.logicalStoreDir}/`;
    if (!directory.startsWith(prefix)) throw new InvalidStorePathError(directory, `not inside ${this.logicalStoreDir}`);
    const [root = '', ...rest] = directory.slice(prefix.length).split('/');
    const name = this.storePathName(prefix + root);
    if (rest.some((part) => part === '' || part === '.' || part === '..')) {
      throw new InvalidStorePathError(directory, 'not a directory path inside a store path');
    }
    signal?.throwIfAborted();
    const real = path.join(this.storeDir, name, ...rest);
    const stats = await lstat(real).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
      throw err;
    });
    if (!stats?.isDirectory()) return null;
    const dirents = await readdir(real, { encoding: 'buffer', withFileTypes: true });
    dirents.sort((a, b) => Buffer.compare(a.name, b.name));
    return dirents.map((dirent) => {
      const entryName = dirent.name.toString('utf8');
      const entryPath = `${directory}/${entryName}`;
      if (!Buffer.from(entryName, 'utf8').equals(dirent.name)) throw new UnsupportedStoreEntryError(entryPath, 'name is not valid UTF-8');
      if (dirent.isSymbolicLink()) return { name: entryName, kind: 'symlink' as const };
      if (dirent.isFile()) return { name: entryName, kind: 'file' as const };
      if (dirent.isDirectory()) return { name: entryName, kind: 'directory' as const };
      throw new UnsupportedStoreEntryError(entryPath, 'not a regular file, directory or symlink');
    });
  }

  private storePathName(storePath: string): string {
    const prefix = `${this.logicalStoreDir}/`;
    if (!storePath.startsWith(prefix)) {
      throw new InvalidStorePathError(storePath, `not inside ${this.logicalStoreDir}`);
    }
    const name = storePath.slice(prefix.length);
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new InvalidStorePathError(storePath, 'not a direct child of the store directory');
    }
    return name;
  }
}

/** Entries of the store path at `real`, from a walker thread, one batch requested ahead. */
async function* walk(real: string, logical: string, signal?: AbortSignal): AsyncGenerator<StoreEntry> {
  signal?.throwIfAborted();
  const session = new WalkSession(real, logical);
  const root = { real, logical };
  try {
    let next = session.first();
    for (;;) {
      const batch = await next;
      if (!batch.done) next = session.request();
      for (const raw of batch.entries) {
        signal?.throwIfAborted();
        yield toStoreEntry(raw, batch.buffer, root);
      }
      if (batch.done) return;
    }
  } finally {
    session.close();
  }
}

/**
 * `root` is the real path of the store path being walked: an entry's file on disk is found
 * from its logical path, so the walker need not send it for the files it read.
 */
function toStoreEntry(raw: RawEntry, buffer: ArrayBuffer | null, root: StoreRoot): StoreEntry {
  if (raw.kind !== 'file') return raw;
  const { path: entryPath, size, executable, offset } = raw;
  const real = raw.real ?? root.real + entryPath.slice(root.logical.length);
  const inline = size === 0 ? Buffer.alloc(0) : buffer && offset >= 0 ? Buffer.from(buffer, offset, size) : undefined;
  const fromDisk = diskReader(real, size);
  return {
    kind: 'file',
    path: entryPath,
    size,
    executable,
    ...(inline ? { bytes: inline } : {}),
    open(signal?: AbortSignal): Readable {
      if (inline) return Readable.from(inline.length > 0 ? [inline] : [], { objectMode: false });
      return fromDisk(signal);
    },
    // Reads the disk, never `inline`: a reader of this later must not keep the batch alive.
    reopen: fromDisk,
  };
}

/**
 * Streams a file from disk. Made outside toStoreEntry on purpose: a closure there would share
 * its scope with open(), which holds the inline bytes, and keep the walker's batch alive.
 */
function diskReader(real: string, size: number): (signal?: AbortSignal) => Readable {
  // `end` bounds each read buffer by what is left (no 1 MiB buffer for a 70 KiB file) and
  // spares the read that would find the end of the file.
  return (signal) =>
    size === 0 ? Readable.from([], { objectMode: false }) : createReadStream(real, { highWaterMark: Math.min(READ_CHUNK_BYTES, size), start: 0, end: size - 1, signal });
}

interface StoreRoot {
  readonly real: string;
  readonly logical: string;
}

let nextSessionId = 0;

/** One walk on one pooled walker thread; batches are matched to it by id. */
class WalkSession {
  private readonly id = ++nextSessionId;
  private readonly worker = walkers.acquire();
  private readonly waiting: { resolve: (batch: Batch) => void; reject: (error: Error) => void }[] = [];
  private finished = false;
  private failure: Error | undefined;
  /** The thread itself failed (not just the walk): it must not go back to the pool. */
  private crashed = false;

  /** The walker sent the last batch (or failed): it holds no session, nothing to stop. */
  private walkOver = false;

  constructor(
    private readonly real: string,
    private readonly logical: string,
  ) {
    this.worker.on('message', this.onMessage);
    this.worker.on('error', this.onFailure);
    this.worker.on('exit', this.onExit);
  }

  /** Start the walk; the answer is its first batch. */
  first(): Promise<Batch> {
    return this.ask({ type: 'start', id: this.id, real: this.real, logical: this.logical, limits: LIMITS });
  }

  /** Ask for the next batch; answers arrive in order. */
  request(): Promise<Batch> {
    return this.ask({ type: 'next', id: this.id, limits: LIMITS });
  }

  /** Stop the walk (if still going) and hand the thread back; idempotent. */
  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.worker.off('message', this.onMessage);
    this.worker.off('error', this.onFailure);
    this.worker.off('exit', this.onExit);
    if (this.crashed) {
      void this.worker.terminate();
      return;
    }
    // A batch still owed would reach the next session's listener, which ignores other ids.
    if (!this.walkOver) this.send({ type: 'stop', id: this.id });
    walkers.release(this.worker);
  }

  private ask(message: WalkerRequest): Promise<Batch> {
    if (this.failure) return Promise.reject(this.failure);
    this.send(message);
    const answer = new Promise<Batch>((resolve, reject) => this.waiting.push({ resolve, reject }));
    // A batch requested ahead may fail after the consumer stopped; that is not unhandled.
    answer.catch(() => undefined);
    return answer;
  }

  private send(message: WalkerRequest): void {
    this.worker.postMessage(message);
  }

  private readonly onMessage = (message: WalkerMessage): void => {
    if (message.id !== this.id) return;
    const waiter = this.waiting.shift();
    if (message.type === 'error' || message.done) this.walkOver = true;
    if (message.type === 'batch') {
      waiter?.resolve(message);
      return;
    }
    const error = message.unsupported !== undefined ? new UnsupportedStoreEntryError(message.unsupported, message.message) : walkError(message);
    waiter?.reject(error);
    this.fail(error);
  };

  private readonly onFailure = (error: Error): void => {
    this.crashed = true;
    this.fail(error);
  };

  private readonly onExit = (code: number): void => {
    this.crashed = true;
    this.fail(new Error(`store walker exited with code ${code}`));
  };

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

function walkError(message: Extract<WalkerMessage, { type: 'error' }>): Error {
  return Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code });
}

/** One pool of walker threads for every reader in the process. */
const walkers = new WorkerPool({ maxIdle: MAX_IDLE_WALKERS, spawn: () => startModuleWorker('store-walker') });
