import type { MetadataStore } from './types.js';
import { StorageUnavailableError } from './errors.js';
import { LruMap } from './caching-lru.js';

export interface CachingMetadataStoreOptions {
  /** Values remembered, absent ones included (image and layer records: a few hundred bytes each). */
  readonly maxValues?: number;
  /** Sets remembered (tags and manifest digests per image name). */
  readonly maxSets?: number;
}

/**
 * A remote MetadataStore (Redis) with a memory of what it last answered, used only when the
 * remote is unavailable: reads go to the remote whenever it answers (so replicas see each
 * other's writes at once) and refresh the memory; when a read fails with
 * StorageUnavailableError, the remembered answer (a value, its absence, or a set's known
 * members) is served instead. Writes always go to the remote and fail when it is down, so no
 * new image or layer is recorded (new builds answer 503) — except adding a set member this
 * process already saw in the set, which is already there.
 *
 * The effect during a Redis outage: every image this replica served before keeps being served
 * (its records, tags and manifest digests are remembered; blobs come from the blob store),
 * while requests that need something new get 503 UNAVAILABLE.
 */
export class CachingMetadataStore implements MetadataStore {
  /** Last answer per key, absence (null) included: "not a pushed repository" stays known too. */
  private readonly values: LruMap<string, string | null>;
  /** Members known to be in each set: read from the remote, or added through this store. */
  private readonly sets: LruMap<string, Set<string>>;

  /** The remote's listing, when it has one (not served from memory: listings are for GC). */
  readonly keys?: (signal?: AbortSignal) => AsyncIterable<string>;

  constructor(
    private readonly remote: MetadataStore,
    options: CachingMetadataStoreOptions = {},
  ) {
    this.values = new LruMap(options.maxValues ?? 100_000);
    this.sets = new LruMap(options.maxSets ?? 20_000);
    if (remote.keys) this.keys = (signal) => (remote.keys as NonNullable<MetadataStore['keys']>).call(remote, signal);
  }

  async get(key: string): Promise<string | null> {
    try {
      const value = await this.remote.get(key);
      this.values.set(key, value);
      return value;
    } catch (error) {
      const remembered = this.values.get(key);
      if (error instanceof StorageUnavailableError && remembered !== undefined) return remembered;
      throw error;
    }
  }

  async set(key: string, value: string): Promise<void> {
    await this.remote.set(key, value);
    this.values.set(key, value);
  }

  async delete(key: string): Promise<void> {
    await this.remote.delete(key);
    this.values.set(key, null);
    this.sets.set(key, new Set());
  }

  async addToSet(key: string, member: string): Promise<void> {
    try {
      await this.remote.addToSet(key, member);
    } catch (error) {
      if (error instanceof StorageUnavailableError && this.sets.get(key)?.has(member)) return;
      throw error;
    }
    this.sets.set(key, (this.sets.get(key) ?? new Set<string>()).add(member));
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.remote.removeFromSet(key, member);
    this.sets.get(key)?.delete(member);
  }

  async members(key: string): Promise<string[]> {
    try {
      const members = await this.remote.members(key);
      this.sets.set(key, new Set(members));
      return members;
    } catch (error) {
      // What this process knows of the set: enough to check a manifest digest; a tag list may
      // lack tags only other replicas built.
      const remembered = this.sets.get(key);
      if (error instanceof StorageUnavailableError && remembered !== undefined) return [...remembered].sort();
      throw error;
    }
  }
}
