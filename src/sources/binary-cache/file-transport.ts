import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { FileTooLargeError, type CacheTransport } from './transport.js';

/** Read size for NAR files: sequential reads of whole files. */
const READ_CHUNK_BYTES = 256 * 1024;

/** A binary cache in a local directory (`file:///srv/cache`), as `nix copy --to file://...` writes it. */
export class FileCacheTransport implements CacheTransport {
  readonly displayUrl: string;
  private readonly root: string;

  constructor(url: URL) {
    this.root = fileURLToPath(new URL(url.href.replace(/\?.*$/, '')));
    this.displayUrl = `file://${this.root}`;
  }

  async get(relative: string, options: { signal: AbortSignal; maxBytes: number }): Promise<Buffer | null> {
    options.signal.throwIfAborted();
    const handle = await this.openHandle(relative);
    if (!handle) return null;
    try {
      const { size } = await handle.stat();
      if (size > options.maxBytes) throw new FileTooLargeError(relative, options.maxBytes);
      return await handle.readFile({ signal: options.signal });
    } finally {
      await handle.close();
    }
  }

  async open(relative: string, signal: AbortSignal): Promise<Readable | null> {
    signal.throwIfAborted();
    const handle = await this.openHandle(relative);
    if (!handle) return null;
    return createReadStream('', { fd: handle, highWaterMark: READ_CHUNK_BYTES, autoClose: true });
  }

  private async openHandle(relative: string) {
    const full = path.join(this.root, relative);
    if (!full.startsWith(`${this.root}${path.sep}`)) throw new Error(`${relative} is outside the cache directory`);
    try {
      return await open(full, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw error;
    }
  }
}
