import type { MetadataStore } from './types.js';

/**
 * Batched reads over any MetadataStore: the store's own batch when it has one (one Redis
 * pipeline, one round trip and one socket write), else the single reads side by side.
 */
export function readMany(store: MetadataStore, keys: readonly string[]): Promise<Array<string | null>> {
  if (keys.length === 0) return Promise.resolve([]);
  if (store.getMany) return store.getMany(keys);
  return Promise.all(keys.map((key) => store.get(key)));
}

/** Whether each `[key, member]` is a set member, in order; batched where the store can. */
export function checkMembers(store: MetadataStore, entries: ReadonlyArray<readonly [string, string]>): Promise<boolean[]> {
  if (entries.length === 0) return Promise.resolve([]);
  if (store.areMembers) return store.areMembers(entries);
  return Promise.all(entries.map(([key, member]) => store.isMember(key, member)));
}
