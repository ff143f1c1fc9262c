import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { redactUrl } from './errors.js';
import { TransientCacheError } from './request-policy.js';
import { FileTooLargeError, readLimited, type CacheTransport } from './transport.js';

/** Answers that mean "the cache does not have it": S3-backed caches answer 403 for a missing key. */
const MISSING = new Set([403, 404, 410]);
/** Answers worth retrying. */
const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);

/** A binary cache served over HTTP or HTTPS (`https://cache.nixos.org`), read with fetch. */
export class HttpCacheTransport implements CacheTransport {
  readonly displayUrl: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(url: URL) {
    const base = new URL(url.href);
    const headers: Record<string, string> = { 'user-agent': 'stowage' };
    if (base.username !== '' || base.password !== '') {
      const credentials = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
      headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      base.username = '';
      base.password = '';
    }
    base.search = '';
    this.base = base.href.endsWith('/') ? base.href : `${base.href}/`;
    this.headers = headers;
    this.displayUrl = redactUrl(url.href.replace(/\?.*$/, ''));
  }

  async get(path: string, options: { signal: AbortSignal; maxBytes: number }): Promise<Buffer | null> {
    const response = await this.fetch(path, options.signal);
    if (!response) return null;
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    if (length > options.maxBytes) {
      await response.body?.cancel();
      throw new FileTooLargeError(path, options.maxBytes);
    }
    if (!response.body) return Buffer.alloc(0);
    try {
      return await readLimited(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), path, options.maxBytes);
    } catch (error) {
      if (error instanceof FileTooLargeError || options.signal.aborted) throw error;
      throw new TransientCacheError(`reading ${path} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async open(path: string, signal: AbortSignal): Promise<Readable | null> {
    // The request gets a controller of its own: `signal` times the opening only, and the body
    // must outlive it. Destroying the returned stream cancels the body.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.fetch(path, controller.signal);
      if (!response) return null;
      if (!response.body) return Readable.from([]);
      const stream = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>, { highWaterMark: 256 * 1024 });
      stream.once('close', () => controller.abort());
      return stream;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async fetch(path: string, signal: AbortSignal): Promise<Response | null> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.base), { headers: this.headers, signal, redirect: 'follow' });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new TransientCacheError(`GET ${path} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`, { cause: error });
    }
    if (response.ok) return response;
    await response.body?.cancel().catch(() => undefined);
    if (MISSING.has(response.status)) return null;
    if (TRANSIENT.has(response.status)) throw new TransientCacheError(`GET ${path} answered ${response.status}`);
    throw new Error(`GET ${path} answered ${response.status} ${response.statusText}`);
  }
}
