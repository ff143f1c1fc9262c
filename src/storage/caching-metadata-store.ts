import type { MetadataStore } from './types.js';
import { StorageUnavailableError } from './errors.js';
import { LruMap, setBytes, stringBytes } from '../cache/lru-map.js';
import { checkMembers, readMany } from './metadata-batch.js';
import type { FsMetadataCacheStats } from './fs-metadata-store.js';
import { pageAfter } from './sorted-page.js';

export interface CachingMetadataStoreOptions {
  /** Values remembered, absent ones included (image and layer records: a few hundred bytes each). */
  readonly maxValues?: number;
  /** Sets remembered (tags and manifest digests per image name). */
  readonly maxSets?: number;
  /** Bytes of values and of sets remembered, each; default 32 MiB. */
  readonly maxBytes?: number;
  /**
   * Called before an answer from memory is given (the remote failed): it may predate a change
   * others announced, so whoever remembers what is read must not keep this read's results.
   */
  readonly onAnsweredFromMemory?: () => void;
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
  /** The remote's prefix listing, when it has one (migrations read the remote, never the memory). */
  readonly valueKeys?: (prefix: string, signal?: AbortSignal) => AsyncIterable<string>;

  private readonly answeredFromMemory: () => void;

  constructor(
    private readonly remote: MetadataStore,
    options: CachingMetadataStoreOptions = {},
  ) {
    this.answeredFromMemory = options.onAnsweredFromMemory ?? (() => undefined);
    const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.values = new LruMap(maxBytes, (value, key) => stringBytes(key) + stringBytes(value), options.maxValues ?? 100_000);
    this.sets = new LruMap(maxBytes, (members, key) => stringBytes(key) + setBytes(members), options.maxSets ?? 20_000);
    if (remote.keys) this.keys = (signal) => (remote.keys as NonNullable<MetadataStore['keys']>).call(remote, signal);
    if (remote.valueKeys) this.valueKeys = (prefix, signal) => (remote.valueKeys as NonNullable<MetadataStore['valueKeys']>).call(remote, prefix, signal);
  }

  /** The caches' own counters, for tests and diagnostics. */
  cacheStats(): FsMetadataCacheStats {
    const of = (cache: { size: number; weight: number; evictions: number }) => ({ entries: cache.size, bytes: cache.weight, evictions: cache.evictions });
    return { values: of(this.values), sets: of(this.sets) };
  }

  async get(key: string): Promise<string | null> {
    try {
      const value = await this.remote.get(key);
      this.values.set(key, value);
      return value;
    } catch (error) {
      const remembered = this.values.get(key);
      if (!(error instanceof StorageUnavailableError) || remembered === undefined) throw error;
      this.answeredFromMemory();
      return remembered;
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
    this.remember(key, member, true);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.remote.removeFromSet(key, member);
    this.remember(key, member, false);
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
      if (!(error instanceof StorageUnavailableError) || remembered === undefined) throw error;
      this.answeredFromMemory();
      return [...remembered].sort();
    }
  }

  /** A page of the remote; during an outage, of the members this process knows (not remembered: a page is part of a set). */
  async membersAfter(key: string, after: string | undefined, limit: number): Promise<string[]> {
    try {
      return await this.remote.membersAfter(key, after, limit);
    } catch (error) {
      const remembered = this.sets.get(key);
      if (!(error instanceof StorageUnavailableError) || remembered === undefined) throw error;
      this.answeredFromMemory();
      return pageAfter([...remembered].sort(), after, limit);
    }
  }

  /**
   * A positive answer is remembered as a known member (so blobs served before stay served
   * during an outage); a negative one only drops the member from what is known.
   */
  async isMember(key: string, member: string): Promise<boolean> {
    try {
      const found = await this.remote.isMember(key, member);
      if (found !== (this.sets.get(key)?.has(member) ?? false)) this.remember(key, member, found);
      return found;
    } catch (error) {
      const remembered = this.sets.get(key);
      if (!(error instanceof StorageUnavailableError) || remembered === undefined) throw error;
      this.answeredFromMemory();
      return remembered.has(member);
    }
  }

  /** One batch on the remote (see `get`); during an outage, answered from memory when every key is remembered. */
  async getMany(keys: readonly string[]): Promise<Array<string | null>> {
    try {
      const values = await readMany(this.remote, keys);
      keys.forEach((key, i) => this.values.set(key, values[i] ?? null));
      return values;
    } catch (error) {
      const remembered = keys.map((key) => this.values.get(key));
      if (!(error instanceof StorageUnavailableError) || remembered.some((value) => value === undefined)) throw error;
      this.answeredFromMemory();
      return remembered as Array<string | null>;
    }
  }

  /** One batch on the remote (see `isMember`); during an outage, from memory when every set is remembered. */
  async areMembers(entries: ReadonlyArray<readonly [string, string]>): Promise<boolean[]> {
    try {
      const found = await checkMembers(this.remote, entries);
      entries.forEach(([key, member], i) => {
        const present = found[i] ?? false;
        if (present !== (this.sets.get(key)?.has(member) ?? false)) this.remember(key, member, present);
      });
      return found;
    } catch (error) {
      const sets = entries.map(([key]) => this.sets.get(key));
      if (!(error instanceof StorageUnavailableError) || sets.some((set) => set === undefined)) throw error;
      this.answeredFromMemory();
      return entries.map(([, member], i) => sets[i]?.has(member) ?? false);
    }
  }

  /** Change a remembered set, setting it again so the cache weighs it anew. */
  private remember(key: string, member: string, present: boolean): void {
    const next = new Set(this.sets.get(key) ?? []);
    if (present) next.add(member);
    else if (!next.delete(member)) return;
    this.sets.set(key, next);
  }
}
