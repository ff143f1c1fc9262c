import { StorageUnavailableError } from './errors.js';

/** How S3 requests are retried: a bounded number of attempts with capped, jittered backoff. */
export interface S3RetryPolicy {
  /** Attempts per request, the first one included (1 = no retries). */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubled for each further one. */
  readonly baseDelayMs: number;
  /** Longest delay between two attempts. */
  readonly maxDelayMs: number;
}

export const DEFAULT_S3_RETRY: S3RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };

/** The slice of the SDK's retry error info this strategy looks at. */
interface RetryErrorInfo {
  readonly errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
  readonly retryAfterHint?: Date;
}

interface Token {
  getRetryCount(): number;
  getRetryDelay(): number;
}

/**
 * The AWS SDK's `RetryStrategyV2`, with our own policy so every S3 request (uploads' parts
 * included) retries the same way: network errors, 5xx and throttling are retried up to
 * `maxAttempts` with exponential backoff and full jitter; other client errors (404, 403, ...)
 * fail at once. A server's Retry-After hint is honoured up to `maxDelayMs`.
 *
 * Unlike the SDK's standard strategy there is no shared retry quota: the registry wants every
 * request to get its retries and then answer 503, and the attempts are bounded anyway.
 */
export class S3RetryStrategy {
  readonly mode = 'stowage';

  constructor(private readonly policy: S3RetryPolicy = DEFAULT_S3_RETRY) {}

  async acquireInitialRetryToken(): Promise<Token> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: Token, info: RetryErrorInfo): Promise<Token> {
    const retries = previous.getRetryCount() + 1;
    if (info.errorType === 'CLIENT_ERROR' || retries >= this.policy.maxAttempts) {
      throw new Error('no more retries');
    }
    const backoff = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (retries - 1));
    const hinted = info.retryAfterHint ? Math.min(this.policy.maxDelayMs, info.retryAfterHint.getTime() - Date.now()) : 0;
    return token(retries, Math.max(hinted, Math.round(Math.random() * backoff)));
  }

  recordSuccess(): void {
    // no retry budget to refill
  }
}

function token(retries: number, delayMs: number): Token {
  return { getRetryCount: () => retries, getRetryDelay: () => delayMs };
}

/**
 * True for S3's "no such key" answers (HEAD gives a bare 404, GET a NoSuchKey error). A missing
 * bucket is a configuration problem, not a missing blob.
 */
export function isS3NotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (name === 'NoSuchBucket') return false;
  return name === 'NotFound' || name === 'NoSuchKey' || $metadata?.httpStatusCode === 404;
}

/** True when `error` came from an aborted signal rather than from S3. */
export function isAbortError(error: unknown, signal?: AbortSignal): boolean {
  return (signal?.aborted ?? false) || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Wrap a failed S3 request (after the SDK's retries) as StorageUnavailableError, naming the
 * operation. Credentials never appear in SDK error messages; the key and bucket may.
 */
export function s3Unavailable(operation: string, error: unknown): StorageUnavailableError {
  if (error instanceof StorageUnavailableError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const code = (error as { code?: unknown } | null)?.code;
  const detail = [name, status ? `HTTP ${status}` : null, typeof code === 'string' ? code : null].filter(Boolean).join(', ');
  return new StorageUnavailableError(`blob storage (S3) is unavailable: ${operation} failed (${detail}): ${message || 'no message'}`, { cause: error });
}
