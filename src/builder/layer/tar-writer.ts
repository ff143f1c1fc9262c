import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Header, Pack } from 'tar-stream';
import { HardLinkIndex } from './hard-link-index.js';
import { ENTRY_MTIME, SYMLINK_MODE, type TarEntry, type TarOwner } from './tar-entry.js';

/** Files up to this size are read whole and queued like headers rather than streamed. */
const SMALL_FILE_BYTES = 64 * 1024;
/**
 * Files up to this size are read into memory when their hash is needed before their header
 * (an earlier file has the same size); larger ones are read twice instead.
 */
const BUFFER_FOR_HASH_LIMIT = 1024 * 1024;

/**
 * Files from this size on, when they can be read again, are hashed only once a later file of
 * the same size and mode turns up. Smaller ones are hashed on the way: their sizes are often
 * shared (a 1.1 GB closure of 20,000 files: 1,718 files would be read again with no threshold,
 * 71 from 16 KiB on), and a read from disk costs far more than hashing a few KiB in memory.
 */
const HASH_LATER_BYTES = 16 * 1024;

const ROOT: TarOwner = { uid: 0, gid: 0 };
/** Bytes of entries handed to the pack before waiting for it to take them. */
const QUEUE_BYTES = 256 * 1024;
/** What a header costs in the queue's accounting (PAX headers are a bit more; no matter). */
const HEADER_BYTES = 512;

/** What `pack.entry()` takes: a partial header. */
type Headers = Partial<Header> & Pick<Header, 'name'>;
/** The writable side of one tar entry (a streamx stream, not a Node one). */
type EntrySink = ReturnType<Pack['entry']>;

/** Options of {@link writeTarEntries}. */
export interface WriteTarOptions {
  /** Store identical linkable files after the first as hard links to it. */
  readonly hardLinks: boolean;
  readonly signal: AbortSignal;
}

/**
 * Write `entries`, in the order given, into `pack` with deterministic headers, then finalize
 * it. Resolves once the last entry has been handed to the pack; the pack's readable side is
 * the caller's to consume (back-pressure from it pauses this loop).
 * @throws whatever reading an entry throws, or an Error when a file's length differs from its
 *   declared size; the pack is not destroyed here, the caller does that.
 */
export async function writeTarEntries(
  pack: Pack,
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
  options: WriteTarOptions,
): Promise<void> {
  const writer = new EntryQueue(pack);
  const index = options.hardLinks ? new HardLinkIndex() : undefined;
  for await (const entry of entries) {
    options.signal.throwIfAborted();
    if (entry.kind === 'directory') {
      await writer.add(header(`${entry.name}/`, 'directory', entry.mode, entry.owner));
    } else if (entry.kind === 'symlink') {
      await writer.add({ ...header(entry.name, 'symlink', SYMLINK_MODE, entry.owner), linkname: entry.target });
    } else if (entry.kind === 'hardlink') {
      await writer.add({ ...header(entry.name, 'link', entry.mode, entry.owner), linkname: entry.target });
    } else {
      await writeFile(writer, entry, index, options.signal);
    }
  }
  await writer.settle();
  pack.finalize();
}

/**
 * Entries with everything in hand (headers, links, inline contents) go to the pack without
 * waiting for each to be taken: waiting costs a few event-loop turns per entry, which adds up
 * over thousands of symlinks and small files. Memory stays bounded because the queue is
 * drained once it holds {@link QUEUE_BYTES}.
 */
class EntryQueue {
  private last: Promise<void> | undefined;
  private queued = 0;

  constructor(readonly pack: Pack) {}

  async add(entryHeader: Headers, content?: Buffer): Promise<void> {
    const added = addEntry(this.pack, entryHeader, content);
    added.catch(ignore);
    this.last = added;
    this.queued += HEADER_BYTES + (content?.length ?? 0);
    if (this.queued >= QUEUE_BYTES) await this.settle();
  }

  /** Wait until everything queued has been taken by the pack (it takes entries in order). */
  async settle(): Promise<void> {
    const last = this.last;
    this.last = undefined;
    this.queued = 0;
    await last;
  }
}

type FileEntry = Extract<TarEntry, { kind: 'file' }>;
/** What size checks need of a file. */
type SizedFile = Pick<FileEntry, 'name' | 'size'>;

async function writeFile(writer: EntryQueue, entry: FileEntry, index: HardLinkIndex | undefined, signal: AbortSignal): Promise<void> {
  const fileHeader = { ...header(entry.name, 'file', entry.mode, entry.owner), size: entry.size };
  const { content } = entry;
  const inline = Buffer.isBuffer(content) ? content : undefined;
  const open = Buffer.isBuffer(content) ? () => Readable.from([content]) : content;
  if (inline) checkSize(entry, inline.length);
  // Empty files are never linked: a link saves nothing and would tie unrelated files together.
  const links = entry.linkable && entry.size > 0 ? index : undefined;
  const { readAgain } = entry;
  if (links && readAgain && entry.size >= HASH_LATER_BYTES && !links.hasCandidates(entry.size, entry.mode)) {
    // No earlier file has this size and mode, so there is nothing to link to yet: the file
    // goes out unhashed, and is hashed (read again) only if a later file of its size and mode
    // turns up. Most files of some size have a size of their own, so most are never hashed.
    if (inline) await writer.add(fileHeader, inline);
    else await streamInto(writer, fileHeader, open(signal), entry, false, signal);
    links.addUnhashed(entry.size, entry.mode, entry.name, hashLater(readAgain, entry.name, entry.size, signal));
    return;
  }
  if (!inline && entry.size > SMALL_FILE_BYTES && !links?.hasCandidates(entry.size, entry.mode)) {
    // A large file no earlier file can match, which cannot be read again: stream it once,
    // hashed along in case a later file matches.
    const sha = await streamInto(writer, fileHeader, open(signal), entry, links !== undefined, signal);
    if (sha !== undefined) links?.add(entry.size, entry.mode, sha, entry.name);
    return;
  }
  // Small files are read whole, which is cheaper than streaming each. A file that may match an
  // earlier one needs its hash before its header: it is held in memory up to a limit, above
  // which it is read twice (open() allows it).
  const bytes = inline ?? (entry.size <= BUFFER_FOR_HASH_LIMIT ? await readAll(open(signal), entry) : undefined);
  const sha = links === undefined ? undefined : bytes ? sha256Hex(bytes) : await hashStream(open(signal), entry);
  const target = sha === undefined ? undefined : await links?.find(entry.size, entry.mode, sha);
  if (target !== undefined) {
    await writer.add({ ...header(entry.name, 'link', entry.mode, entry.owner), linkname: target });
    return;
  }
  if (bytes) {
    await writer.add(fileHeader, bytes);
  } else {
    const again = await streamInto(writer, fileHeader, open(signal), entry, true, signal);
    if (again !== sha) throw new Error(`file ${entry.name} changed while being read`);
  }
  if (sha !== undefined) links?.add(entry.size, entry.mode, sha, entry.name);
}

/**
 * File-type bits OR'ed into the mode: tar-stream replaces a mode of 0 with its own default,
 * and masks the header field to the permission bits (07777) anyway.
 */
const TYPE_BITS = { file: 0o100000, link: 0o100000, directory: 0o040000, symlink: 0o120000 } as const;

function header(name: string, type: keyof typeof TYPE_BITS, mode: number, owner = ROOT): Headers {
  return { name, type, mode: TYPE_BITS[type] | mode, uid: owner.uid, gid: owner.gid, mtime: ENTRY_MTIME, uname: '', gname: '' };
}

/** Add a header-only entry, or one with inline content; resolves when the pack took it. */
function addEntry(pack: Pack, entryHeader: Headers, content?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    const sink = content ? pack.entry(entryHeader, content, done) : pack.entry(entryHeader, done);
    sink.on('error', ignore);
  });
}

/** Stream a file's content into a new pack entry; returns its sha256 when `hash` is set. */
async function streamInto(
  writer: EntryQueue,
  fileHeader: Headers,
  source: Readable,
  entry: FileEntry,
  hash: boolean,
  signal: AbortSignal,
): Promise<string | undefined> {
  // Streamed entries are waited for one by one; what was queued before goes first.
  await writer.settle();
  const hasher = hash ? createHash('sha256') : undefined;
  let written = 0;
  let sink!: EntrySink;
  const finished = new Promise<void>((resolve, reject) => {
    sink = writer.pack.entry(fileHeader, (err) => (err ? reject(err) : resolve()));
  });
  // Errors surface through the write loop or the awaits below: the entry's 'error' event and
  // an early rejection of `finished` must not count as unhandled.
  sink.on('error', ignore);
  finished.catch(ignore);
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      written += chunk.length;
      checkSize(entry, written, true);
      hasher?.update(chunk);
      if (!sink.write(chunk)) await drained(sink, signal);
    }
    checkSize(entry, written);
  } catch (err) {
    source.destroy();
    sink.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  sink.end(undefined);
  await finished;
  return hasher?.digest('hex');
}

function ignore(): void {}

/**
 * How to hash a file later, by reading it again. Made here rather than in writeFile, whose
 * closures hold the file's bytes: this one is kept for the rest of the layer and must not.
 */
function hashLater(readAgain: (signal: AbortSignal) => Readable, name: string, size: number, signal: AbortSignal): () => Promise<string> {
  return () => hashStream(readAgain(signal), { name, size });
}

async function readAll(source: Readable, entry: FileEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    read += chunk.length;
    checkSize(entry, read, true);
    chunks.push(chunk);
  }
  checkSize(entry, read);
  return Buffer.concat(chunks, read);
}

async function hashStream(source: Readable, entry: SizedFile): Promise<string> {
  const hasher = createHash('sha256');
  let read = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    read += chunk.length;
    checkSize(entry, read, true);
    hasher.update(chunk);
  }
  checkSize(entry, read);
  return hasher.digest('hex');
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A file that grows or shrinks while read would corrupt the tar: fail the layer instead. */
function checkSize(entry: SizedFile, actual: number, partial = false): void {
  if (partial ? actual > entry.size : actual !== entry.size) {
    const found = partial ? `more than ${entry.size}` : String(actual);
    throw new Error(`file ${entry.name} has ${found} bytes instead of ${entry.size}: changed while being read?`);
  }
}

/**
 * Wait for a tar entry's writable side to drain; rejects if the entry is torn down (the pack
 * was destroyed) or the signal fires instead, so a stopped layer never leaves this waiting.
 */
function drained(sink: EntrySink, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onStop = (): void => {
      cleanup();
      reject(signal.aborted ? signal.reason : new Error('tar entry closed while writing'));
    };
    const cleanup = (): void => {
      sink.off('drain', onDrain);
      sink.off('close', onStop);
      signal.removeEventListener('abort', onStop);
    };
    if (sink.destroyed || signal.aborted) {
      onStop();
      return;
    }
    sink.on('drain', onDrain);
    sink.on('close', onStop);
    signal.addEventListener('abort', onStop, { once: true });
  });
}
