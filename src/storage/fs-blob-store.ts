import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { fsyncPath } from './blob-io.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { BlobInfo, BlobStore, BlobWriter, ByteRange, SizedBlob, StoredBlob } from './types.js';
import { copyBufferBudget, isNotFound, nodeBlobFileSystem, openSizedFile, readWholeFile, type BlobFileSystem } from './fs-blob-read.js';
import { BlobNotFoundError, DigestMismatchError } from './errors.js';
import { assertRangeWithin } from './range.js';
import { leadingPid, removeOrphans } from './stale-files.js';
import { Sha256, digestHex, isValidDigest } from '../oci/digest.js';

/**
 * Blobs on local disk.
 *
 * Layout under `root`:
 *   blobs/sha256/<first two hex>/<hex>   committed blobs, immutable
 *   staging/<pid>-<uuid>                 blobs being written by process <pid>; never served
 *
 * A writer streams into a staging file, fsyncs it, and renames it into place, so a reader sees
 * either nothing or the whole blob. Two writers of the same content both rename onto the same
 * name with identical bytes, which is safe. Staging files left by a crash are removed at
 * startup by `removeOrphanedStaging` (their writer is gone) and, for files from before staging
 * names carried a pid, by age with `removeStaleStaging`.
 */
export class FsBlobStore implements BlobStore {
  private readonly blobDir: string;
  private readonly stagingDir: string;

  /**
   * @param fs the calls used to read blobs; a test passes a counting one.
   * @param copyBuffers bounds the big buffers of copies to clients; a test passes a small one.
   */
  constructor(
    root: string,
    private readonly fs: BlobFileSystem = nodeBlobFileSystem,
    private readonly copyBuffers = copyBufferBudget(),
  ) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.stagingDir = join(root, 'staging');
  }

  /** Create the directories; call once before use. */
  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.stagingDir, { recursive: true });
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    const path = this.blobPath(digest);
    if (path === null) return null;
    try {
      const info = await this.fs.stat(path);
      return { digest, size: info.size };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async open(digest: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    const opened = await this.openSized(
      digest,
      (size) => {
        if (range) assertRangeWithin(range, size);
        return range ?? null;
      },
      signal,
    );
    if (opened === null) throw new BlobNotFoundError(digest);
    return Buffer.isBuffer(opened.body) ? Readable.from([opened.body], { objectMode: false }) : opened.body;
  }

  /** One open and one fstat: small ranges are read whole, larger ones streamed in big reads. */
  async openSized(digest: string, pick: (size: number) => ByteRange | null, signal?: AbortSignal): Promise<SizedBlob | null> {
    const path = this.blobPath(digest);
    if (path === null) return null;
    return openSizedFile(this.fs, path, pick, signal, this.copyBuffers);
  }

  async read(digest: string, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    const path = this.blobPath(digest);
    const body = path === null ? null : await readWholeFile(this.fs, path);
    if (body === null) throw new BlobNotFoundError(digest);
    return body;
  }

  async writer(): Promise<BlobWriter> {
    const stagingPath = join(this.stagingDir, `${process.pid}-${randomUUID()}`);
    const handle = await open(stagingPath, 'wx', 0o644);
    return new FsBlobWriter(handle, stagingPath, (digest) => this.finalPath(digest));
  }

  async redirectUrl(): Promise<string | null> {
    return null;
  }

  async *list(signal?: AbortSignal): AsyncIterable<StoredBlob> {
    for (const prefix of await readdirIfExists(this.blobDir)) {
      for (const hex of await readdirIfExists(join(this.blobDir, prefix))) {
        signal?.throwIfAborted();
        if (!/^[a-f0-9]{64}$/.test(hex)) continue;
        const info = await stat(join(this.blobDir, prefix, hex)).catch(() => null);
        if (info?.isFile()) yield { digest: `sha256:${hex}`, size: info.size, committedAt: info.mtimeMs };
      }
    }
  }

  /**
   * The blob is first renamed aside into staging, then its mtime (its last commit: a commit
   * renames a fresh staging file onto the name) is checked. A commit racing with this either
   * happened before the rename, and the fresh file is put back (its bytes are the same, so
   * replacing an even newer commit is harmless), or after it, and makes a new file.
   */
  async delete(digest: string, options: { readonly committedBefore?: number; readonly signal?: AbortSignal } = {}): Promise<boolean> {
    const path = this.blobPath(digest);
    if (path === null) return false;
    options.signal?.throwIfAborted();
    const aside = join(this.stagingDir, `${process.pid}-gc-${randomUUID()}`);
    try {
      await rename(path, aside);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    const info = await stat(aside);
    if (options.committedBefore !== undefined && info.mtimeMs >= options.committedBefore) {
      await rename(aside, path);
      return false;
    }
    await rm(aside, { force: true });
    return true;
  }

  /** Remove staging files whose writing process is gone; call at startup. @returns how many. */
  removeOrphanedStaging(): Promise<number> {
    return removeOrphans(this.stagingDir, leadingPid);
  }

  /** Remove staging files older than `maxAgeMs` (left behind by a crashed process). */
  async removeStaleStaging(maxAgeMs: number): Promise<number> {
    let removed = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const name of await readdir(this.stagingDir)) {
      const path = join(this.stagingDir, name);
      const info = await stat(path).catch(() => null);
      if (info && info.mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  private blobPath(digest: string): string | null {
    const relative = fsBlobRelativePath(digest);
    return relative === null ? null : join(this.blobDir, '..', relative);
  }

  private finalPath(digest: string): string {
    const hex = digestHex(digest);
    return join(this.blobDir, hex.slice(0, 2), hex);
  }
}

/**
 * Where a committed blob lies below the store's `<root>/blobs/` directory (`sha256/<2 hex>/<hex>`),
 * or null for a digest the store does not keep; a front proxy maps that directory (deploy/nginx).
 */
export function fsBlobRelativePath(digest: string): string | null {
  if (!isValidDigest(digest) || !digest.startsWith('sha256:')) return null;
  const hex = digestHex(digest);
  return `sha256/${hex.slice(0, 2)}/${hex}`;
}

class FsBlobWriter implements BlobWriter {
  readonly stream: Writable;
  private readonly hash = new Sha256();
  private bytes = 0;
  private committed: BlobInfo | undefined;
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly stagingPath: string,
    private readonly finalPath: (digest: string) => string,
  ) {
    this.stream = new Writable({
      highWaterMark: 1024 * 1024,
      writev: (chunks, callback) => {
        const buffers = chunks.map(({ chunk }) => chunk as Buffer);
        for (const buffer of buffers) {
          this.hash.update(buffer);
          this.bytes += buffer.length;
        }
        handle.writev(buffers).then(() => callback(), callback);
      },
      final: (callback) => {
        handle.sync().then(() => callback(), callback);
      },
    });
  }

  get size(): number {
    return this.bytes;
  }

  async commit(expectedDigest?: string): Promise<BlobInfo> {
    if (this.committed) return this.checked(this.committed, expectedDigest);
    if (!this.stream.writableFinished) await endStream(this.stream);
    const info = { digest: this.hash.digest(), size: this.bytes };
    this.committed = info;
    try {
      this.checked(info, expectedDigest);
    } catch (error) {
      await this.abort();
      throw error;
    }
    await this.close();
    const target = this.finalPath(info.digest);
    await mkdir(join(target, '..'), { recursive: true });
    // Renaming onto an existing blob replaces identical bytes; the name never shows partial data.
    await rename(this.stagingPath, target);
    await fsyncPath(join(target, '..'));
    return info;
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await this.close();
    await rm(this.stagingPath, { force: true });
  }

  private checked(info: BlobInfo, expectedDigest: string | undefined): BlobInfo {
    if (expectedDigest !== undefined && expectedDigest !== info.digest) {
      throw new DigestMismatchError(expectedDigest, info.digest);
    }
    return info;
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

function endStream(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

async function readdirIfExists(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
