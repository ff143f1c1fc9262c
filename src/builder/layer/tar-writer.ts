import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { HardLinkIndex } from './hard-link-index.js';
import { ENTRY_MTIME, SYMLINK_MODE, type TarEntry, type TarOwner } from './tar-entry.js';
import type { TarEntryType, TarHeader } from './tar-header.js';
import type { TarOutput } from './tar-output.js';

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

/** Options of {@link writeTarEntries}. */
export interface WriteTarOptions {
  /** Store identical linkable files after the first as hard links to it. */
  readonly hardLinks: boolean;
  readonly signal: AbortSignal;
}

/**
 * Write `entries`, in the order given, into `tar` with deterministic headers, then finalize
 * it. Resolves once the last entry has been pushed; the readable side is the caller's to
 * consume (back-pressure from it pauses this loop).
 * @throws whatever reading an entry throws, or an Error when a file's length differs from its
 *   declared size; the stream is not destroyed here, the caller does that.
 */
export async function writeTarEntries(
  tar: TarOutput,
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
  options: WriteTarOptions,
): Promise<void> {
  const index = options.hardLinks ? new HardLinkIndex() : undefined;
  const { signal } = options;
  for await (const entry of entries) {
    signal.throwIfAborted();
    if (entry.kind === 'directory') {
      tar.entry(header(`${entry.name}/`, 'directory', entry.mode, entry.owner));
    } else if (entry.kind === 'symlink') {
      tar.entry(header(entry.name, 'symlink', SYMLINK_MODE, entry.owner, 0, entry.target));
    } else if (entry.kind === 'hardlink') {
      tar.entry(header(entry.name, 'link', entry.mode, entry.owner, 0, entry.target));
    } else {
      await writeFile(tar, entry, index, signal);
    }
    // Entries in hand are pushed without waiting; the wait comes only once the reader lags.
    await tar.room(signal);
  }
  tar.finalize();
}

type FileEntry = Extract<TarEntry, { kind: 'file' }>;
/** What size checks need of a file. */
type SizedFile = Pick<FileEntry, 'name' | 'size'>;

async function writeFile(tar: TarOutput, entry: FileEntry, index: HardLinkIndex | undefined, signal: AbortSignal): Promise<void> {
  const fileHeader = header(entry.name, 'file', entry.mode, entry.owner, entry.size);
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
    if (inline) tar.entry(fileHeader, inline);
    else await streamInto(tar, fileHeader, open(signal), entry, false, signal);
    links.addUnhashed(entry.size, entry.mode, entry.name, hashLater(readAgain, entry.name, entry.size, signal));
    return;
  }
  if (!inline && entry.size > SMALL_FILE_BYTES && !links?.hasCandidates(entry.size, entry.mode)) {
    // A large file no earlier file can match, which cannot be read again: stream it once,
    // hashed along in case a later file matches.
    const sha = await streamInto(tar, fileHeader, open(signal), entry, links !== undefined, signal);
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
    tar.entry(header(entry.name, 'link', entry.mode, entry.owner, 0, target));
    return;
  }
  if (bytes) {
    tar.entry(fileHeader, bytes);
  } else {
    const again = await streamInto(tar, fileHeader, open(signal), entry, true, signal);
    if (again !== sha) throw new Error(`file ${entry.name} changed while being read`);
  }
  if (sha !== undefined) links?.add(entry.size, entry.mode, sha, entry.name);
}

const MTIME_SECONDS = Math.floor(ENTRY_MTIME.getTime() / 1000);

function header(name: string, type: TarEntryType, mode: number, owner = ROOT, size = 0, linkname?: string): TarHeader {
  const base = { name, type, mode, uid: owner.uid, gid: owner.gid, size, mtime: MTIME_SECONDS };
  return linkname === undefined ? base : { ...base, linkname };
}

/** Stream a file's content into the tar after its header; returns its sha256 when `hash` is set. */
async function streamInto(
  tar: TarOutput,
  fileHeader: TarHeader,
  source: Readable,
  entry: FileEntry,
  hash: boolean,
  signal: AbortSignal,
): Promise<string | undefined> {
  const hasher = hash ? createHash('sha256') : undefined;
  let written = 0;
  tar.entry(fileHeader);
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      written += chunk.length;
      checkSize(entry, written, true);
      hasher?.update(chunk);
      tar.content(chunk);
      await tar.room(signal);
    }
    checkSize(entry, written);
  } catch (err) {
    // The entry is cut short: the caller destroys the tar stream, whose bytes are now invalid.
    source.destroy();
    throw err;
  }
  tar.pad(written);
  return hasher?.digest('hex');
}

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
