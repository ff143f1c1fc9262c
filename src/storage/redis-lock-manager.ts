import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LockManager } from './types.js';
import type { RedisConnection } from './redis-client.js';
import { StorageUnavailableError } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';

/** The holder of a distributed lock could not keep it (Redis gone for a whole TTL, or expired). */
export class LockLostError extends StorageUnavailableError {
  constructor(readonly key: string, reason: string) {
    super(`lost the build lock on ${key} (${reason}); another replica may take over, retry the request`);
    this.name = 'LockLostError';
  }
}

export interface RedisLockOptions {
  readonly keyPrefix?: string;
  /** First and longest pause between two attempts of a waiter (doubling, with jitter). */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
  readonly logger?: Logger;
}

// KEYS[1] = lock key, ARGV[1] = holder's token, ARGV[2] = TTL in ms. Both act only when the key
// still holds our token, so an expired holder can never extend or delete a successor's lock.
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * A lock shared by every replica using the same Redis: `SET key token NX PX ttl` takes it, a
 * timer renews it every ttl/3 while `fn` runs, a compare-and-delete script releases it. A holder
 * that crashes stops renewing, so the key expires at most `ttlMs` later and a waiter takes over.
 * Waiters poll with capped exponential backoff and jitter and stop when their signal aborts.
 * Within one process, callers of a key queue on an in-process mutex first, so only one of them
 * polls Redis.
 *
 * Losing the lock: a renewal that finds another token (our key expired) means the lock is gone;
 * failed renewals (Redis unreachable) are retried until a whole TTL has passed since the last
 * success, after which the key has certainly expired. Either way `withLock` rejects at once
 * with LockLostError (a 503 for the request) instead of letting the caller believe it still has
 * exclusive access. `fn` itself keeps running to completion in the background, because the
 * LockManager contract gives it no signal to stop; that is safe because builds are
 * deterministic and content-addressed: a replica that takes over writes the same blobs and the
 * same records, so the only cost is duplicated work.
 *
 * Not fenced: a holder paused for longer than its TTL (a stopped VM) may overlap with its
 * successor for a moment. Again this costs duplicate work, never wrong data.
 */
export class RedisLockManager implements LockManager {
  private readonly local = new KeyedMutex();
  private readonly keyPrefix: string;
  private readonly pollMinMs: number;
  private readonly pollMaxMs: number;

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisLockOptions = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? 'stowage:';
    this.pollMinMs = options.pollMinMs ?? 20;
    this.pollMaxMs = options.pollMaxMs ?? 500;
  }

  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.local.run(key, () => this.withDistributedLock(key, Math.max(ttlMs, 300), fn, signal), signal);
  }

  private async withDistributedLock<T>(key: string, ttlMs: number, fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const lockKey = `${this.keyPrefix}lock:${key}`;
    const token = randomUUID();
    let validFrom = await this.acquire(lockKey, token, ttlMs, signal);

    let lose!: (error: LockLostError) => void;
    const lost = new Promise<never>((_resolve, reject) => (lose = reject));
    lost.catch(() => undefined);
    let isLost = false;
    const renew = async (): Promise<void> => {
      const sentAt = Date.now();
      try {
        const renewed = await this.redis.client.eval(RENEW, 1, lockKey, token, String(ttlMs));
        if (renewed === 1) validFrom = sentAt;
        else markLost('it expired and was taken or released');
      } catch (error) {
        this.options.logger?.warn({ lock: key, reason: (error as Error).message }, 'lock renewal failed');
        if (Date.now() - validFrom >= ttlMs) markLost('Redis did not answer for a whole lock TTL');
      }
    };
    const markLost = (reason: string): void => {
      if (isLost) return;
      isLost = true;
      this.options.logger?.error({ lock: key, reason }, 'lost a build lock');
      lose(new LockLostError(key, reason));
    };
    let renewing = false;
    const timer = setInterval(() => {
      if (renewing || isLost) return;
      renewing = true;
      void renew().finally(() => (renewing = false));
    }, Math.max(50, Math.floor(ttlMs / 3)));
    timer.unref();

    const work = fn();
    work.catch(() => undefined); // when the lock is lost first, the work's outcome is dropped
    try {
      return await Promise.race([work, lost]);
    } finally {
      clearInterval(timer);
      if (!isLost) {
        // If this fails (Redis down), the key simply expires after its TTL.
        await this.redis.client.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
      }
    }
  }

  /** Take the lock, polling while someone else holds it. @returns when the lock's TTL started. */
  private async acquire(lockKey: string, token: string, ttlMs: number, signal: AbortSignal | undefined): Promise<number> {
    for (let attempt = 0; ; attempt += 1) {
      signal?.throwIfAborted();
      const sentAt = Date.now();
      const taken = await this.redis.run('SET NX (lock)', (client) => client.set(lockKey, token, 'PX', ttlMs, 'NX'));
      if (taken === 'OK') return sentAt;
      const cap = Math.min(this.pollMaxMs, this.pollMinMs * 2 ** Math.min(attempt, 10));
      await sleep(cap / 2 + Math.random() * (cap / 2), signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
