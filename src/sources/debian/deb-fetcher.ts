import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { SourceIntegrityError, SourceUnavailableError } from '../errors.js';
import { DebCacheBudget } from './deb-cache-budget.js';
import type { DebFetcher, DebianPackage } from './types.js';
import { abortable } from '../abortable.js';

/** How one HTTP GET is made: global fetch by default, replaceable in tests. */
export type HttpGet = (url: string, signal: AbortSignal) => Promise<Response>;

export interface HttpDebFetcherOptions {
  /** Cache directory: `<dir>/sha256/<ab>/<sha256>.deb`, temp files in `<dir>/tmp`. */
  readonly dir: string;
  /** Downloads in flight at once. */
  readonly concurrency: number;
  /** Retries of a download that failed with a network error, a 5xx/429/404, or was cut off. */
  readonly retries: number;
  /** Limit for one download attempt, body included. */
  readonly timeoutMs: number;
  /** First retry delay; doubled on each further retry. */
  readonly backoffMs: number;
  /** Most bytes of `.deb`s kept; the least recently used go first. */
  readonly maxBytes: number;
  readonly get?: HttpGet;
  /** Told of every download that starts (tests count them). */
  readonly onDownload?: (pkg: DebianPackage, attempt: number) => void;
  readonly onRetry?: (info: { readonly url: string; readonly attempt: number; readonly reason: string }) => void;
}

/**
 * Downloads `.deb` files on demand into a content-addressed cache: each download goes to a
 * temp file while hashed, and only a file whose size and SHA256 match the signed index is
 * renamed into place, so the cache never holds unverified bytes. Concurrent requests for one
 * SHA256 share one download (single flight); downloads beyond `concurrency` wait.
 */
export class HttpDebFetcher implements DebFetcher {
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly budget: DebCacheBudget;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly get: HttpGet;

  constructor(private readonly options: HttpDebFetcherOptions) {
    this.get = options.get ?? ((url, signal) => fetch(url, { signal, redirect: 'follow' }));
    this.budget = new DebCacheBudget(join(options.dir, 'sha256'), options.maxBytes);
  }

  async open(pkg: DebianPackage, signal?: AbortSignal): Promise<Readable> {
    const path = await this.fetch(pkg, signal);
    return createReadStream(path);
  }

  /** The verified cache file of `pkg`, downloading it first when missing. */
  async fetch(pkg: DebianPackage, signal?: AbortSignal): Promise<string> {
    const sha = pkg.sha256.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha)) throw integrityError(pkg.archiveUrl, pkg.filename, 'the index gives no valid SHA256');
    const path = this.pathOf(sha);
    if (await isFile(path, pkg.size)) {
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined);
      return path;
    }
    let pending = this.inFlight.get(sha);
    if (!pending) {
      // The download is shared, so it must not die with the first caller's signal.
      pending = this.download(pkg, path).finally(() => this.inFlight.delete(sha));
      pending.catch(() => undefined);
      this.inFlight.set(sha, pending);
    }
    return signal ? abortable(pending, signal) : pending;
  }

  private pathOf(sha: string): string {
    return join(this.options.dir, 'sha256', sha.slice(0, 2), `${sha}.deb`);
  }

  private async download(pkg: DebianPackage, path: string): Promise<string> {
    const url = new URL(pkg.filename, pkg.archiveUrl).toString();
    await this.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        this.options.onDownload?.(pkg, attempt);
        try {
          await this.attempt(pkg, url, path);
          await this.budget.added(path, pkg.size);
          return path;
        } catch (error) {
          if (error instanceof SourceIntegrityError) throw error;
          const reason = error instanceof Error ? error.message : String(error);
          if (attempt >= this.options.retries) throw new SourceUnavailableError(`${pkg.archiveUrl} is unavailable: downloading ${pkg.filename} failed: ${reason}`, { upstream: pkg.archiveUrl, item: pkg.filename });
          this.options.onRetry?.({ url, attempt: attempt + 1, reason });
          await sleep(this.options.backoffMs * 2 ** attempt);
        }
      }
    } finally {
      this.release();
    }
  }

  /** One GET into a temp file; renamed into the cache only when size and hash match. */
  private async attempt(pkg: DebianPackage, url: string, path: string): Promise<void> {
    const tmpDir = join(this.options.dir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${pkg.sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await this.get(url, signal);
      if (!response.ok || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`HTTP ${response.status} for ${url}`);
      }
      const check = new SizeAndHash(pkg.size, pkg.archiveUrl, pkg.filename);
      const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
      await pipeline(body, check, createWriteStream(tmp), { signal });
      if (check.bytes !== pkg.size) throw new Error(`download cut off after ${check.bytes} of ${pkg.size} bytes`);
      const actual = check.digest();
      if (actual !== pkg.sha256.toLowerCase()) {
        throw integrityError(pkg.archiveUrl, pkg.filename, `SHA256 ${actual} differs from the signed index's ${pkg.sha256}`);
      }
      await mkdir(join(path, '..'), { recursive: true });
      await rename(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** Hashes what passes through; errors as soon as more than `expected` bytes arrive. */
class SizeAndHash extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly expected: number,
    private readonly upstream: string,
    private readonly item: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected) {
      callback(integrityError(this.upstream, this.item, `more than the ${this.expected} bytes the signed index gives`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

async function isFile(path: string, size: number): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  return info !== null && info.isFile() && info.size === size;
}

/** Bytes from `upstream` for `item` that fail verification: nothing is stored. */
function integrityError(upstream: string, item: string, reason: string): SourceIntegrityError {
  return new SourceIntegrityError(`${upstream}: refusing ${item}: ${reason}`, { upstream, item });
}
