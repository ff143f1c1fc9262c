import { setTimeout as sleep } from 'node:timers/promises';
import { BinaryCacheUnavailableError } from './errors.js';

/** A failure worth retrying: a 5xx, 429 or 408 answer, a network error, a timed-out attempt. */
export class TransientCacheError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientCacheError';
  }
}

export interface RequestPolicyOptions {
  /** Requests to the cache in flight at once. */
  readonly concurrency: number;
  /** Retries after the first attempt, for transient failures only. */
  readonly retries: number;
  /** Limit for one attempt: until a small file is read, or until a stream's response starts. */
  readonly timeoutMs: number;
  /** First backoff delay; doubled each retry, with ±50 % jitter, capped at 30 s. */
  readonly backoffMs: number;
  /** The cache's URL without credentials, for errors. */
  readonly cache: string;
  /** Called before each retry (for logging). */
  readonly onRetry?: (info: { what: string; attempt: number; delayMs: number; error: string }) => void;
}

/**
 * How every request to a cache runs: at most `concurrency` at once, each attempt limited to
 * `timeoutMs`, transient failures retried with exponential backoff. Permanent failures (404 is
 * not one: transports return null for it) pass through unchanged.
 */
export class RequestPolicy {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: RequestPolicyOptions) {}

  /**
   * Run `attempt` until it succeeds, fails permanently, or the retries are used up.
   * @throws BinaryCacheUnavailableError when transient failures outlast the retries; the
   *   signal's reason when aborted; any other error of `attempt` unchanged.
   */
  async run<T>(what: string, signal: AbortSignal, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      signal.throwIfAborted();
      let error: unknown;
      await this.acquire(signal);
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(new TransientCacheError(`${what} timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      try {
        return await attempt(controller.signal);
      } catch (caught) {
        error = caught;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.release();
      }
      if (signal.aborted) throw signal.reason;
      const transient = error instanceof TransientCacheError || (controller.signal.aborted && controller.signal.reason instanceof TransientCacheError);
      if (!transient) throw error;
      const message = controller.signal.reason instanceof TransientCacheError ? controller.signal.reason.message : (error as Error).message;
      if (retry >= this.options.retries) {
        throw new BinaryCacheUnavailableError(this.options.cache, `${what}: ${message} (after ${retry + 1} attempts)`);
      }
      const base = Math.min(30_000, this.options.backoffMs * 2 ** retry);
      const delayMs = Math.round(base * (0.5 + Math.random()));
      this.options.onRetry?.({ what, attempt: retry + 1, delayMs, error: message });
      await sleep(delayMs, undefined, { signal });
    }
  }

  private acquire(signal: AbortSignal): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.active += 1;
        resolve();
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.active -= 1;
    this.waiting.shift()?.();
  }
}
