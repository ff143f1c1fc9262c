import { describe, expect, it } from 'vitest';
import { S3RetryStrategy, isS3NotFound, s3Unavailable } from '../../../src/storage/s3-retry.js';
import { StorageUnavailableError } from '../../../src/storage/errors.js';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('S3RetryStrategy', () => {
  it('retries network errors, throttling and 5xx up to the attempt limit with capped backoff', async () => {
    const strategy = new S3RetryStrategy(policy);
    let token = await strategy.acquireInitialRetryToken();
    const delays: number[] = [];
    for (const errorType of ['TRANSIENT', 'THROTTLING', 'SERVER_ERROR'] as const) {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType });
      delays.push(token.getRetryDelay());
    }
    expect(token.getRetryCount()).toBe(3);
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** i));
    });
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })).rejects.toThrow();
  });

  it('never retries client errors', async () => {
    const strategy = new S3RetryStrategy(policy);
    const token = await strategy.acquireInitialRetryToken();
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR' })).rejects.toThrow();
  });

  it("honours a server's Retry-After up to the longest delay", async () => {
    const strategy = new S3RetryStrategy(policy);
    const token = await strategy.acquireInitialRetryToken();
    const next = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING', retryAfterHint: new Date(Date.now() + 60_000) });
    expect(next.getRetryDelay()).toBe(policy.maxDelayMs);
  });
});

describe('S3 error helpers', () => {
  it('tells a missing key from a missing bucket', () => {
    expect(isS3NotFound({ name: 'NotFound', $metadata: { httpStatusCode: 404 } })).toBe(true);
    expect(isS3NotFound({ name: 'NoSuchKey' })).toBe(true);
    expect(isS3NotFound({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })).toBe(false);
    expect(isS3NotFound(new Error('ECONNREFUSED'))).toBe(false);
  });

  it('names the operation, status and code in StorageUnavailableError', () => {
    const cause = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const error = s3Unavailable('GetObject', cause);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error.message).toBe('blob storage (S3) is unavailable: GetObject failed (SlowDown, HTTP 503): Please reduce your request rate.');
    expect(error.cause).toBe(cause);
  });
});
