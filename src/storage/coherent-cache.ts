import { LruMap } from '../cache/lru-map.js';
import type { CacheCoherence } from './types.js';

/**
 * Answers read from shared metadata, remembered in this process while `coherence` says they
 * are current: an entry is served only under the generation it was read in, and forgotten when
 * any process invalidates its key. A read that was under way while some key was invalidated is
 * not remembered (it may have been answered before the change and arrive after the notice).
 */
export class CoherentCache<V> {
  private readonly entries: LruMap<string, { readonly generation: number; readonly value: V }>;
  private invalidations = 0;

  constructor(
    private readonly coherence: CacheCoherence,
    maxEntries: number,
  ) {
    this.entries = new LruMap(maxEntries);
    coherence.onInvalidate((key) => {
      this.invalidations += 1;
      this.entries.delete(key);
    });
  }

  /** The remembered answer for `key`, when it may be served now. */
  get(key: string): V | undefined {
    const generation = this.coherence.generation();
    if (generation === null) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.generation === generation) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** The answer for `key`: remembered, or from `load` (and then remembered when `keep` says so). */
  async read(key: string, load: () => Promise<V>, keep: (value: V) => boolean): Promise<V> {
    const remembered = this.get(key);
    if (remembered !== undefined) return remembered;
    const generation = this.coherence.generation();
    const invalidations = this.invalidations;
    const value = await load();
    if (generation !== null && invalidations === this.invalidations && this.coherence.generation() === generation && keep(value)) {
      this.entries.set(key, { generation, value });
    }
    return value;
  }

  /** After a change to what `key` names is written: every process forgets it (see CacheCoherence). */
  invalidate(key: string): Promise<void> {
    return this.coherence.invalidate(key);
  }
}
