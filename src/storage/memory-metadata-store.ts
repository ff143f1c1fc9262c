import type { MetadataStore } from './types.js';
import { pageAfter } from './sorted-page.js';

/** Metadata in process memory: lost on restart. For tests and as the cache of FsMetadataStore. */
export class MemoryMetadataStore implements MetadataStore {
  private readonly values = new Map<string, string>();
  private readonly sets = new Map<string, Set<string>>();

  async get(key: string): Promise<string | null> {
    return this.values.get(key) ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }

  async delete(key: string): Promise<void> {
    this.values.delete(key);
    this.sets.delete(key);
  }

  async addToSet(key: string, member: string): Promise<void> {
    let set = this.sets.get(key);
    if (!set) {
      set = new Set();
      this.sets.set(key, set);
    }
    set.add(member);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    this.sets.get(key)?.delete(member);
  }

  async members(key: string): Promise<string[]> {
    return [...(this.sets.get(key) ?? [])].sort();
  }

  async membersAfter(key: string, after: string | undefined, limit: number): Promise<string[]> {
    return pageAfter(await this.members(key), after, limit);
  }

  async isMember(key: string, member: string): Promise<boolean> {
    return this.sets.get(key)?.has(member) ?? false;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | null>> {
    return keys.map((key) => this.values.get(key) ?? null);
  }

  async areMembers(entries: ReadonlyArray<readonly [string, string]>): Promise<boolean[]> {
    return entries.map(([key, member]) => this.sets.get(key)?.has(member) ?? false);
  }

  async *valueKeys(prefix: string): AsyncIterable<string> {
    for (const key of [...this.values.keys()]) if (key.startsWith(prefix)) yield key;
  }

  async *keys(): AsyncIterable<string> {
    const keys = new Set(this.values.keys());
    for (const [key, set] of this.sets) if (set.size > 0) keys.add(key);
    yield* keys;
  }
}
