import type { LockManager, MetadataStore } from '../storage/types.js';
import { parseRecord } from './records.js';

export interface CachedBuildDeps {
  readonly metadata: MetadataStore;
  readonly locks: LockManager;
  /** How long a crashed builder may hold the key before another may take over. */
  readonly lockTtlMs: number;
}

export interface CachedResult<T> {
  readonly record: T;
  /** True when this call built the record; false when it came from the cache. */
  readonly built: boolean;
}

/**
 * Look up a record; on a miss, build it under the key's lock so concurrent callers (in this
 * process or, with a distributed LockManager, in other replicas) build it once: the first one
 * builds, the others wait for the lock and then find the record. The record is stored only
 * after `build` resolves, i.e. after the blobs it names are committed.
 *
 * `isUsable` guards against records whose blobs have since disappeared (e.g. garbage collected).
 */
export async function cachedBuild<T extends object>(
  deps: CachedBuildDeps,
  key: string,
  isUsable: (record: T) => Promise<boolean>,
  build: () => Promise<T>,
  signal?: AbortSignal,
): Promise<CachedResult<T>> {
  const lookup = async (): Promise<T | null> => {
    const record = parseRecord<T>(await deps.metadata.get(key));
    return record !== null && (await isUsable(record)) ? record : null;
  };
  const hit = await lookup();
  if (hit) return { record: hit, built: false };
  return deps.locks.withLock(
    key,
    deps.lockTtlMs,
    async () => {
      const raced = await lookup();
      if (raced) return { record: raced, built: false };
      const record = await build();
      await deps.metadata.set(key, JSON.stringify(record));
      return { record, built: true };
    },
    signal,
  );
}
