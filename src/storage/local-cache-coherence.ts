import type { CacheCoherence } from './types.js';

/**
 * Coherence within one process, for metadata no other process changes (the fs metadata store
 * has one serving process): listeners hear of each change before `invalidate` returns.
 */
export class LocalCacheCoherence implements CacheCoherence {
  private readonly listeners: Array<(key: string) => void> = [];

  generation(): number {
    return 0;
  }

  onInvalidate(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  async invalidate(key: string): Promise<void> {
    for (const listener of this.listeners) listener(key);
  }

  async close(): Promise<void> {}
}

/** No remembering at all: for metadata stores given from outside, which others may change unseen. */
export class NoCacheCoherence implements CacheCoherence {
  generation(): null {
    return null;
  }

  onInvalidate(): void {}

  async invalidate(): Promise<void> {}

  async close(): Promise<void> {}
}
