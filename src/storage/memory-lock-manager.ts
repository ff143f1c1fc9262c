import type { LockManager } from './types.js';
import { KeyedMutex } from './keyed-mutex.js';

/**
 * Locks within one process. The TTL does not apply: a holder cannot crash without the whole
 * process (and every waiter) going with it.
 */
export class MemoryLockManager implements LockManager {
  private readonly mutex = new KeyedMutex();

  withLock<T>(key: string, _ttlMs: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.mutex.run(key, fn, signal);
  }
}
