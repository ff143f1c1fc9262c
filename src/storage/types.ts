import type { Readable, Writable } from 'node:stream';

/** A blob that exists in a store. */
export interface BlobInfo {
  /** `sha256:<64 hex>`. */
  readonly digest: string;
  readonly size: number;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Content-addressed blob storage. Blobs are immutable once committed; nothing partial is ever
 * visible through `stat` or `open`.
 */
export interface BlobStore {
  /** Size of a committed blob, or null when it does not exist. */
  stat(digest: string, signal?: AbortSignal): Promise<BlobInfo | null>;
  /**
   * Stream a committed blob, or the inclusive `range` of it.
   * @throws BlobNotFoundError when the blob does not exist.
   * @throws RangeNotSatisfiableError when the range lies outside the blob.
   */
  open(digest: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable>;
  /**
   * Open a committed blob with a single look at it: its size, the range `pick` chooses from
   * that size (it may throw RangeNotSatisfiableError), and the bytes of that range, as one
   * buffer when small. Null when the blob does not exist. Optional: without it, callers
   * `stat` and then `open`.
   */
  openSized?(digest: string, pick: (size: number) => ByteRange | null, signal?: AbortSignal): Promise<SizedBlob | null>;
  /**
   * The whole blob in one buffer of its size; for small blobs (manifests, configs). Optional:
   * without it, `readBlob` collects `open`'s chunks.
   * @throws BlobNotFoundError
   */
  read?(digest: string, signal?: AbortSignal): Promise<Buffer>;
  /** Start a new blob; bytes go to staging and are hashed while written. */
  writer(signal?: AbortSignal): Promise<BlobWriter>;
  /** A URL clients may be redirected to for this blob, or null to serve it directly. */
  redirectUrl(digest: string): Promise<string | null>;
  /**
   * Every committed blob with the time it was last committed, in no particular order; for
   * garbage collection. Optional: a store without it cannot be garbage collected.
   */
  list?(signal?: AbortSignal): AsyncIterable<StoredBlob>;
  /**
   * Remove a committed blob, only if it was last committed before `options.committedBefore`
   * (epoch ms) when given: a blob that a build committed again meanwhile is kept. Removing a
   * missing blob is not an error. Optional, as `list`.
   * @returns true when the blob was removed.
   */
  delete?(digest: string, options?: { readonly committedBefore?: number; readonly signal?: AbortSignal }): Promise<boolean>;
}

/** A blob opened by `BlobStore.openSized`. */
export interface SizedBlob {
  readonly size: number;
  /** The range served, or null for the whole blob. */
  readonly range: ByteRange | null;
  /** The bytes of the range (or of the blob): a buffer when small, else a stream to consume or destroy. */
  readonly body: Buffer | Readable;
}

/**
 * A blob body that can copy into one destination through two reused buffers instead of a new
 * buffer per read (fs-blob-stream.ts). Only for a destination whose write callback means the
 * chunk's bytes were handed on (a socket, an HTTP/1 response): a Transform or a queueing
 * writable still holds the chunk after its callback, and a reused buffer would change bytes it
 * had not yet passed on. The caller that knows the destination vouches for it.
 */
export interface BufferReusingBody {
  reuseBuffersFor(destination: NodeJS.WritableStream): void;
}

export function isBufferReusingBody(body: unknown): body is BufferReusingBody {
  return typeof (body as Partial<BufferReusingBody> | null)?.reuseBuffersFor === 'function';
}

/** A committed blob as listed by `BlobStore.list`. */
export interface StoredBlob extends BlobInfo {
  /** When the blob was last committed (epoch ms): a commit of existing content renews it. */
  readonly committedAt: number;
}

/** Staged bytes of a blob being written. */
export interface BlobWriter {
  /** Write the blob's bytes here; end it before `commit`. */
  readonly stream: Writable;
  /** Bytes written so far. */
  readonly size: number;
  /**
   * Make the blob visible under its sha256 digest, atomically. When `expectedDigest` is given
   * and differs, nothing is committed and DigestMismatchError is thrown. Idempotent: committing
   * content that already exists succeeds and leaves the existing blob untouched.
   */
  commit(expectedDigest?: string): Promise<BlobInfo>;
  /** Discard the staged bytes. Safe to call more than once and after a failed commit. */
  abort(): Promise<void>;
}

/**
 * Small records about built images and layers (JSON strings) and sets of strings, by key.
 * Values are written only after the blobs they name are committed.
 */
export interface MetadataStore {
  /** The value stored under `key`, or null. */
  get(key: string): Promise<string | null>;
  /** Store `value` under `key`, replacing any previous value. Durable when it resolves. */
  set(key: string, value: string): Promise<void>;
  /** Remove `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Add `member` to the set at `key`; adding an existing member is not an error. */
  addToSet(key: string, member: string): Promise<void>;
  /** Remove `member` from the set at `key`; removing a missing member is not an error. */
  removeFromSet(key: string, member: string): Promise<void>;
  /** Members of the set at `key` in ascending order; empty when the set does not exist. */
  members(key: string): Promise<string[]>;
  /**
   * Up to `limit` members of the set at `key` that sort after `after` (from the first when
   * undefined), ascending, as `members` orders them: what listings page through. A store keeps
   * the sets it is told are listings in order (Redis: a sorted set beside the set), so a page
   * reads only itself; other sets are read whole and cut.
   */
  membersAfter(key: string, after: string | undefined, limit: number): Promise<string[]>;
  /**
   * Whether `member` is in the set at `key`, without reading the whole set (Redis SISMEMBER):
   * what serving a blob or checking a recorded tag asks on every request.
   */
  isMember(key: string, member: string): Promise<boolean>;
  /**
   * The values under `keys`, in order (null where missing), in one round trip where the store
   * is remote (a Redis pipeline). Optional: `readMany` in metadata-batch.ts falls back to `get`s.
   */
  getMany?(keys: readonly string[]): Promise<Array<string | null>>;
  /** Whether each `[key, member]` is a member, in order, in one round trip where remote. Optional (see `checkMembers`). */
  areMembers?(entries: ReadonlyArray<readonly [string, string]>): Promise<boolean[]>;
  /**
   * Every key holding a value or a non-empty set, in no particular order; for garbage
   * collection and listings. Optional: a store without it cannot be garbage collected.
   */
  keys?(signal?: AbortSignal): AsyncIterable<string>;
  /**
   * Keys holding a value that start with `prefix`, in no particular order, read in pages so
   * memory stays bounded however many there are; a key may come more than once (Redis SCAN),
   * so callers must be idempotent. For one-time migrations of the key space. Optional.
   */
  valueKeys?(prefix: string, signal?: AbortSignal): AsyncIterable<string>;
}

/** Mutual exclusion by key, so that each image and each layer is built once at a time. */
export interface LockManager {
  /**
   * Run `fn` while holding the lock on `key`; waits while another holder has it. `ttlMs` bounds
   * how long a crashed holder can keep the key locked (distributed implementations renew it
   * while `fn` runs).
   */
  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * Keeps what processes remember of shared metadata right when one of them changes it: every
 * process that may serve a remembered answer hears of each change before the changer's request
 * returns. Implementations: one process (fs metadata), Redis pub/sub with leases (replicas).
 */
export interface CacheCoherence {
  /**
   * What remembered answers are valid under, or null when none may be served now (this process
   * may have missed changes). Entries kept under another generation are stale.
   */
  generation(): number | null;
  /** Hear of every key forgotten by any process, this one included. */
  onInvalidate(listener: (key: string) => void): void;
  /**
   * After a change to what `key` names is written: tell every process to forget `key`. Resolves
   * once each process has, or can no longer serve what it remembered.
   */
  invalidate(key: string): Promise<void>;
  close(): Promise<void>;
}
