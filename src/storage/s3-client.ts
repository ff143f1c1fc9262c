import { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_S3_RETRY, S3RetryStrategy, isAbortError, isS3NotFound, s3Unavailable, type S3RetryPolicy } from './s3-retry.js';

/** Where an S3-compatible service is and how to talk to it. */
export interface S3ConnectionOptions {
  readonly region: string;
  /** Custom endpoint for S3-compatible servers (MinIO, Ceph, R2, ...); empty = AWS. */
  readonly endpoint?: string;
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (most self-hosted servers need it). */
  readonly forcePathStyle?: boolean;
  readonly retry?: S3RetryPolicy;
  /** Explicit credentials (tests); otherwise the AWS default chain: env, files, IMDS, ... */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** A request whose connection moves no byte for this long fails (and is retried). Default 30 s. */
  readonly socketTimeoutMs?: number;
}

/** See `S3ConnectionOptions.socketTimeoutMs`. */
export const DEFAULT_S3_SOCKET_TIMEOUT_MS = 30_000;

/**
 * An S3 client with stowage's retry policy. Checksums are sent and validated only when S3
 * requires them: stowage verifies every blob's sha256 itself, and several S3-compatible servers
 * reject the SDK's newer trailing-checksum uploads.
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  const retry = options.retry ?? DEFAULT_S3_RETRY;
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: retry.maxAttempts,
    retryStrategy: new S3RetryStrategy(retry),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Fail fast on an unreachable endpoint, and on a stalled one (a connection that moves no byte
    // for the socket timeout: without it a request to a frozen S3 waited forever). No overall
    // request timeout, since a blob streamed to a slow client may legitimately take long.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: options.socketTimeoutMs ?? DEFAULT_S3_SOCKET_TIMEOUT_MS },
  });
}

/**
 * Run one S3 request (already retried by the client's strategy): aborts pass through as they
 * are, every other failure becomes StorageUnavailableError naming `operation`.
 */
export async function s3Call<T>(operation: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAbortError(error, signal)) throw signal?.reason ?? error;
    throw s3Unavailable(operation, error);
  }
}

/** As {@link s3Call}, but a 404 (no such key) gives null. */
export async function s3CallOrNull<T>(operation: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (isS3NotFound(error)) return null;
    if (isAbortError(error, signal)) throw signal?.reason ?? error;
    throw s3Unavailable(operation, error);
  }
}
