/**
 * The walker thread of LocalStoreReader (protocol in store-walker-protocol.ts). A store path
 * is thousands of lstat, readlink, readdir and small reads; done with the async fs API each is
 * a thread-pool round trip from the main thread, which costs more than the call itself. The
 * walker makes them synchronously, off the main thread, and sends entries in batches, small
 * files' bytes packed into one transferred buffer per batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { BatchLimits, RawEntry, WalkerMessage, WalkerRequest } from './store-walker-protocol.js';

/** A file entry while it is being walked: `real` is dropped once its bytes are inline. */
interface WalkedFile {
  kind: 'file';
  path: string;
  real?: string;
  size: number;
  executable: boolean;
  offset: number;
}

type WalkedEntry = Exclude<RawEntry, { kind: 'file' }> | WalkedFile;

/** An entry a NAR cannot represent; its path goes back so the reader can name it. */
class UnsupportedEntry extends Error {
  constructor(readonly entryPath: string, reason: string) {
    super(reason);
  }
}

interface Session {
  readonly id: number;
  readonly walker: Generator<WalkedEntry, void, undefined>;
  /** An entry that did not fit the last batch's buffer, first in the next. */
  carry: WalkedEntry | null;
}

let session: Session | null = null;

function* walk(real: string, logical: string): Generator<WalkedEntry, void, undefined> {
  const stats = fs.lstatSync(real);
  if (stats.isSymbolicLink()) {
    yield { kind: 'symlink', path: logical, target: fs.readlinkSync(real) };
  } else if (stats.isFile()) {
    yield { kind: 'file', path: logical, real, size: stats.size, executable: (stats.mode & 0o111) !== 0, offset: -1 };
  } else if (stats.isDirectory()) {
    yield { kind: 'directory', path: logical };
    const names = fs.readdirSync(real, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const raw of names) {
      const name = raw.toString('utf8');
      // A string path cannot carry arbitrary bytes; fail loudly rather than emit a mangled name.
      if (!Buffer.from(name, 'utf8').equals(raw)) throw new UnsupportedEntry(`${logical}/${name}`, 'name is not valid UTF-8');
      yield* walk(path.join(real, name), `${logical}/${name}`);
    }
  } else {
    throw new UnsupportedEntry(logical, 'not a regular file, directory or symlink');
  }
}

const probe = Buffer.alloc(1);

function readInto(entry: WalkedFile, real: string, bytes: Uint8Array, offset: number): void {
  const fd = fs.openSync(real, 'r');
  try {
    let read = 0;
    while (read < entry.size) {
      const n = fs.readSync(fd, bytes, offset + read, entry.size - read, read);
      if (n === 0) break;
      read += n;
    }
    if (read !== entry.size || fs.readSync(fd, probe, 0, 1, read) !== 0) {
      throw new Error(`file ${entry.path} changed size while being read`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Small files' bytes go into one buffer per batch, sized to what the batch holds once its
 * entries are known (a fixed-size buffer would be allocated and zeroed in full for every
 * store path, most of which are a few KiB), and transferred whole, so that the walker keeps
 * no garbage of its own.
 */
function nextBatch(current: Session, limits: BatchLimits): { entries: RawEntry[]; bytes: Uint8Array<ArrayBuffer> | null; done: boolean } {
  const entries: WalkedEntry[] = [];
  const inline: WalkedFile[] = [];
  let used = 0;
  let done = false;
  while (entries.length < limits.batchEntries) {
    const entry = current.carry ?? current.walker.next().value;
    current.carry = null;
    if (entry === undefined) {
      done = true;
      break;
    }
    if (entry.kind === 'file' && entry.size > 0 && entry.size <= limits.inlineBytes && entry.real !== undefined) {
      if (used + entry.size > limits.batchBytes) {
        current.carry = entry;
        break;
      }
      entry.offset = used;
      used += entry.size;
      inline.push(entry);
    }
    entries.push(entry);
  }
  const bytes = used > 0 ? new Uint8Array(used) : null;
  for (const entry of inline) {
    if (bytes && entry.real !== undefined) readInto(entry, entry.real, bytes, entry.offset);
  }
  for (const entry of entries) if (entry.kind === 'file' && (entry.offset >= 0 || entry.size === 0)) delete entry.real;
  return { entries, bytes, done };
}

function post(message: WalkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

function errorMessage(id: number, error: unknown): WalkerMessage {
  if (error instanceof UnsupportedEntry) return { type: 'error', id, message: error.message, unsupported: error.entryPath };
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? { type: 'error', id, message } : { type: 'error', id, message, code };
}

parentPort?.on('message', (message: WalkerRequest) => {
  if (message.type === 'start') session = { id: message.id, walker: walk(message.real, message.logical), carry: null };
  const current = session;
  if (!current || current.id !== message.id) return;
  if (message.type === 'stop') {
    session = null;
    return;
  }
  try {
    const { entries, bytes, done } = nextBatch(current, message.limits);
    if (done) session = null;
    const buffer = bytes ? bytes.buffer : null;
    post({ type: 'batch', id: current.id, entries, buffer, done }, buffer ? [buffer] : []);
  } catch (error) {
    session = null;
    post(errorMessage(current.id, error));
  }
});
