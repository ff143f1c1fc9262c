import { setTimeout as delay } from 'node:timers/promises';
import { DebianArchiveError, DebianArchiveUnavailableError } from '../errors.js';

/** Answers worth retrying: the archive or a proxy is briefly overloaded. */
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** How requests to a Debian archive run. */
export interface ArchiveHttpOptions {
  /** Limit for one attempt, until the whole body is read. */
  readonly timeoutMs: number;
  /** Retries after the first attempt, for transient failures only. */
  readonly retries: number;
  /** First backoff delay; doubled each retry, ±50 % jitter, capped at 30 s. */
  readonly backoffMs: number;
  /** Largest body accepted; a Packages.xz of bookworm main is ~9 MB. */
  readonly maxBytes: number;
  /** Injectable for tests: the fetch to use (default global fetch). */
  readonly fetch?: typeof fetch;
  /** Injectable for tests: waits between retries. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Injectable for tests: jitter source in [0, 1). */
  readonly random?: () => number;
  /** Called before each retry (for logging). */
  readonly onRetry?: (info: { url: string; attempt: number; delayMs: number; error: string }) => void;
}

/** Defaults fit for index files over a slow mirror. */
export const DEFAULT_ARCHIVE_HTTP: ArchiveHttpOptions = { timeoutMs: 120_000, retries: 3, backoffMs: 500, maxBytes: 256 * 1024 * 1024 };

class TransientError extends Error {}

/**
 * Reads files of one archive over HTTP(S). Every attempt has its own timeout; network errors,
 * timeouts and 5xx/429/408 answers are retried with exponential backoff; 404 and 410 mean the
 * file is absent (null); any other answer is a permanent DebianArchiveError.
 */
export class ArchiveHttpClient {
  private readonly options: ArchiveHttpOptions;

  constructor(
    /** Archive root URL ending in `/`. */
    readonly archiveUrl: string,
    options: Partial<ArchiveHttpOptions> = {},
  ) {
    this.options = { ...DEFAULT_ARCHIVE_HTTP, ...options };
  }

  /**
   * The bytes of `path` (relative to the archive root), or null when the archive has no such file.
   * @throws DebianArchiveUnavailableError when transient failures outlast the retries.
   * @throws DebianArchiveError for other refusals and oversized bodies; the signal's reason when aborted.
   */
  async get(path: string, signal?: AbortSignal): Promise<Buffer | null> {
    const url = new URL(path, this.archiveUrl).href;
    const sleep = this.options.sleep ?? ((ms: number, s: AbortSignal) => delay(ms, undefined, { signal: s }));
    const random = this.options.random ?? Math.random;
    const outer = signal ?? new AbortController().signal;
    for (let attempt = 0; ; attempt++) {
      outer.throwIfAborted();
      try {
        return await this.attempt(url, path, outer);
      } catch (error) {
        if (outer.aborted) throw outer.reason;
        if (!(error instanceof TransientError)) throw error;
        if (attempt >= this.options.retries) {
          throw new DebianArchiveUnavailableError(this.archiveUrl, `${path}: ${error.message} (after ${attempt + 1} attempts)`);
        }
        const base = Math.min(this.options.backoffMs * 2 ** attempt, 30_000);
        const delayMs = Math.round(base * (0.5 + random()));
        this.options.onRetry?.({ url, attempt: attempt + 1, delayMs, error: error.message });
        await sleep(delayMs, outer);
      }
    }
  }

  private async attempt(url: string, path: string, outer: AbortSignal): Promise<Buffer | null> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(outer.reason);
    outer.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new TransientError(`timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    const doFetch = this.options.fetch ?? fetch;
    try {
      let response: Response;
      try {
        response = await doFetch(url, { signal: controller.signal, redirect: 'follow', headers: { 'user-agent': 'stowage' } });
      } catch (error) {
        throw this.transient(error, controller.signal);
      }
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel().catch(() => undefined);
        return null;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        if (TRANSIENT_STATUS.has(response.status)) throw new TransientError(`answered ${response.status}`);
        throw new DebianArchiveError(`Debian archive ${this.archiveUrl}: ${path} answered ${response.status} ${response.statusText}`, this.archiveUrl);
      }
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared > this.options.maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw this.tooLarge(path);
      }
      return await this.readBody(response, path, controller.signal);
    } finally {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    }
  }

  private async readBody(response: Response, path: string, signal: AbortSignal): Promise<Buffer> {
    if (!response.body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of response.body) {
        total += chunk.byteLength;
        if (total > this.options.maxBytes) {
          await response.body.cancel().catch(() => undefined);
          throw this.tooLarge(path);
        }
        chunks.push(Buffer.from(chunk));
      }
    } catch (error) {
      if (error instanceof DebianArchiveError || error instanceof DebianArchiveUnavailableError) throw error;
      throw this.transient(error, signal);
    }
    return Buffer.concat(chunks, total);
  }

  private tooLarge(path: string): DebianArchiveError {
    return new DebianArchiveError(`Debian archive ${this.archiveUrl}: ${path} is larger than ${this.options.maxBytes} bytes`, this.archiveUrl);
  }

  private transient(error: unknown, signal: AbortSignal): Error {
    if (signal.aborted && signal.reason instanceof TransientError) return signal.reason;
    if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return new TransientError(cause?.code ?? cause?.message ?? (error as Error).message);
  }
}
