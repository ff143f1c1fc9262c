import { open, stat, type FileHandle } from 'node:fs/promises';
import type { ByteRange, SizedBlob } from './types.js';
import { FileRangeStream } from './fs-blob-stream.js';
import { CopyBufferBudget } from './copy-buffer-budget.js';

/**
 * Blobs up to this size are read whole, with one read into a buffer of exactly their size:
 * manifests, configs and small layers. A read stream would allocate its high-water mark
 * (64 KiB by default, 256 KiB as this store asks for big blobs) for a 1 KiB manifest, and those
 * allocations drove repeated full garbage collections under load.
 */
export const WHOLE_READ_MAX_BYTES = 64 * 1024;

/**
 * Bigger blobs are streamed in reads of this size when each read gets a new buffer (a stream
 * read as `data` events, or piped anywhere but a response the registry vouches for): the
 * allocations, not the reads, are what costs there.
 */
export const STREAM_READ_BYTES = 256 * 1024;

/** A copy to a vouched response reads into two buffers of this size, while the budget allows. */
export const COPY_READ_BYTES = 1024 * 1024;

/** At most this many bytes of such buffers per store (32 copies at once); later copies use STREAM_READ_BYTES. */
export const COPY_BUFFER_LIMIT_BYTES = 64 * 1024 * 1024;

/** The budget a store's copies share (one per store, so one per serving process). */
export function copyBufferBudget(): CopyBufferBudget {
  return new CopyBufferBudget(COPY_READ_BYTES, STREAM_READ_BYTES, COPY_BUFFER_LIMIT_BYTES);
}

/** The file-system calls the store makes, injectable so a test can count them. */
export interface BlobFileSystem {
  stat(path: string): Promise<{ readonly size: number; readonly mtimeMs: number; isFile(): boolean }>;
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  /** The size of an open file (fstat). */
  fstat(handle: FileHandle): Promise<{ readonly size: number }>;
}

export const nodeBlobFileSystem: BlobFileSystem = {
  stat: (path) => stat(path),
  open: (path, flags, mode) => open(path, flags, mode),
  fstat: (handle) => handle.stat(),
};

/**
 * Open `path` once and look at it once (fstat): the size, the range `pick` chooses from it, and
 * the bytes, read whole when small. Null when there is no such file. The open file belongs to
 * the returned stream, which closes it when it ends or is destroyed.
 */
export async function openSizedFile(
  fs: BlobFileSystem,
  path: string,
  pick: (size: number) => ByteRange | null,
  signal?: AbortSignal,
  copyBuffers?: CopyBufferBudget,
): Promise<SizedBlob | null> {
  signal?.throwIfAborted();
  const handle = await openIfExists(fs, path);
  if (handle === null) return null;
  try {
    const { size } = await fs.fstat(handle);
    const range = pick(size);
    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : size;
    if (length <= WHOLE_READ_MAX_BYTES) {
      const body = await readExactly(handle, start, length);
      await handle.close();
      return { size, range, body };
    }
    return { size, range, body: new FileRangeStream(handle, start, length, STREAM_READ_BYTES, signal, copyBuffers) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** The file opened for reading, or null when there is none. */
async function openIfExists(fs: BlobFileSystem, path: string): Promise<FileHandle | null> {
  try {
    return await fs.open(path, 'r');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** The whole file in one buffer of its size (fstat, then reads into it). */
export async function readWholeFile(fs: BlobFileSystem, path: string): Promise<Buffer | null> {
  const handle = await openIfExists(fs, path);
  if (handle === null) return null;
  try {
    const { size } = await fs.fstat(handle);
    return await readExactly(handle, 0, size);
  } finally {
    await handle.close();
  }
}

/** `length` bytes from `position`; one read unless the kernel returns fewer bytes. */
async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`blob file ended after ${filled} of ${length} bytes`);
    filled += bytesRead;
  }
  return buffer;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
