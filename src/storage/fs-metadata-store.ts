import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetadataStore } from './types.js';
import { KeyedMutex } from './keyed-mutex.js';
import { LruMap, setBytes, stringBytes } from '../cache/lru-map.js';
import { isOrphaned } from './stale-files.js';
import { pageAfter } from './sorted-page.js';

export interface FsMetadataStoreOptions {
  /** Bytes of values (absences included) kept in memory; default 32 MiB. */
  readonly maxValueBytes?: number;
  /** Bytes of sets kept in memory; default 32 MiB. */
  readonly maxSetBytes?: number;
  /** Entries per cache, whatever their size (a miss costs little but still counts); default 100,000. */
  readonly maxEntries?: number;
}

/** The caches' own counters, for tests and diagnostics. */
export interface FsMetadataCacheStats {
  readonly values: { readonly entries: number; readonly bytes: number; readonly evictions: number };
  readonly sets: { readonly entries: number; readonly bytes: number; readonly evictions: number };
}

/**
 * Metadata persisted as small JSON files, for the embedded single-process default.
 *
 * Layout under `root`:
 *   values/<sha256(key) first two hex>/<sha256(key)>.json   {"key": ..., "value": ...}
 *   sets/<...>/<sha256(key)>.json                            {"key": ..., "members": [...]}
 *
 * Each write goes to a temporary file, is fsynced and renamed over the old one, so a crash
 * leaves either the old or the new record. Reads are served from memory after the first load;
 * that is safe because one process owns the directory. The memory is a bounded LRU (by bytes
 * and by entries), misses included, so names clients make up cannot grow it without end.
 */
export class FsMetadataStore implements MetadataStore {
  private readonly valueCache: LruMap<string, string | null>;
  private readonly setCache: LruMap<string, ReadonlySet<string>>;
  private readonly mutex = new KeyedMutex();
  private tempCounter = 0;

  constructor(
    private readonly root: string,
    options: FsMetadataStoreOptions = {},
  ) {
    const maxEntries = options.maxEntries ?? 100_000;
    this.valueCache = new LruMap(options.maxValueBytes ?? 32 * 1024 * 1024, (value, key) => stringBytes(key) + stringBytes(value), maxEntries);
    this.setCache = new LruMap(options.maxSetBytes ?? 32 * 1024 * 1024, (members, key) => stringBytes(key) + setBytes(members), maxEntries);
  }

  cacheStats(): FsMetadataCacheStats {
    const of = (cache: { size: number; weight: number; evictions: number }) => ({ entries: cache.size, bytes: cache.weight, evictions: cache.evictions });
    return { values: of(this.valueCache), sets: of(this.setCache) };
  }

  /**
   * Remove temporary files a killed process left behind (a write is temp file, fsync, rename):
   * those of processes no longer running, and this process id's from an earlier life. Run at
   * startup, before any write. @returns how many were removed.
   */
  async removeStaleTemps(): Promise<number> {
    let removed = 0;
    for (const kind of ['values', 'sets'] as const) {
      for (const prefix of await readdirIfExists(join(this.root, kind))) {
        for (const name of await readdirIfExists(join(this.root, kind, prefix))) {
          const match = /\.json\.(\d+)\.\d+\.tmp$/.exec(name);
          if (match === null || !isOrphaned(Number(match[1]))) continue;
          await rm(join(this.root, kind, prefix, name), { force: true });
          removed += 1;
        }
      }
    }
    return removed;
  }

  async get(key: string): Promise<string | null> {
    const cached = this.valueCache.get(key);
    if (cached !== undefined) return cached;
    const record = await this.readRecord('values', key);
    const value = typeof record?.value === 'string' ? record.value : null;
    this.valueCache.set(key, value);
    return value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.mutex.run(`v:${key}`, async () => {
      await this.writeRecord('values', key, { key, value });
      this.valueCache.set(key, value);
    });
  }

  async delete(key: string): Promise<void> {
    await this.mutex.run(`v:${key}`, async () => {
      await rm(this.recordPath('values', key), { force: true });
      this.valueCache.set(key, null);
    });
    await this.mutex.run(`s:${key}`, async () => {
      await rm(this.recordPath('sets', key), { force: true });
      this.setCache.set(key, new Set());
    });
  }

  async addToSet(key: string, member: string): Promise<void> {
    await this.mutex.run(`s:${key}`, async () => {
      const set = await this.loadSet(key);
      if (set.has(member)) return;
      const next = new Set(set).add(member);
      await this.writeRecord('sets', key, { key, members: [...next].sort() });
      this.setCache.set(key, next);
    });
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.mutex.run(`s:${key}`, async () => {
      const set = await this.loadSet(key);
      if (!set.has(member)) return;
      const next = new Set(set);
      next.delete(member);
      await this.writeRecord('sets', key, { key, members: [...next].sort() });
      this.setCache.set(key, next);
    });
  }

  async members(key: string): Promise<string[]> {
    return [...(await this.loadSet(key))].sort();
  }

  /** The set is one file, in memory once read: the page is cut from it. */
  async membersAfter(key: string, after: string | undefined, limit: number): Promise<string[]> {
    return pageAfter(await this.members(key), after, limit);
  }

  async isMember(key: string, member: string): Promise<boolean> {
    return (await this.loadSet(key)).has(member);
  }

  /** In-process reads (cached, else files): side by side, no round trip to batch. */
  getMany(keys: readonly string[]): Promise<Array<string | null>> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  areMembers(entries: ReadonlyArray<readonly [string, string]>): Promise<boolean[]> {
    return Promise.all(entries.map(([key, member]) => this.isMember(key, member)));
  }

  /** Read from disk, so it also sees records another process wrote (`stowage gc` beside a server). */
  async *keys(signal?: AbortSignal): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const kind of ['values', 'sets'] as const) {
      for (const prefix of await readdirIfExists(join(this.root, kind))) {
        for (const name of await readdirIfExists(join(this.root, kind, prefix))) {
          signal?.throwIfAborted();
          if (!name.endsWith('.json')) continue;
          const record = await readJsonIfExists(join(this.root, kind, prefix, name));
          if (typeof record?.key !== 'string' || seen.has(record.key)) continue;
          if (kind === 'sets' && !(Array.isArray(record.members) && record.members.length > 0)) continue;
          seen.add(record.key);
          yield record.key;
        }
      }
    }
  }

  /** Reads every value record's key from disk, one directory of the 256 at a time; keeps nothing between them. */
  async *valueKeys(prefix: string, signal?: AbortSignal): AsyncIterable<string> {
    for (const shard of await readdirIfExists(join(this.root, 'values'))) {
      for (const name of await readdirIfExists(join(this.root, 'values', shard))) {
        signal?.throwIfAborted();
        if (!name.endsWith('.json')) continue;
        const record = await readJsonIfExists(join(this.root, 'values', shard, name));
        if (typeof record?.key === 'string' && typeof record.value === 'string' && record.key.startsWith(prefix)) yield record.key;
      }
    }
  }

  private async loadSet(key: string): Promise<ReadonlySet<string>> {
    const cached = this.setCache.get(key);
    if (cached) return cached;
    const record = await this.readRecord('sets', key);
    const members = Array.isArray(record?.members) ? record.members.filter((m): m is string => typeof m === 'string') : [];
    const set = new Set(members);
    this.setCache.set(key, set);
    return set;
  }

  private recordPath(kind: 'values' | 'sets', key: string): string {
    const hash = createHash('sha256').update(key).digest('hex');
    return join(this.root, kind, hash.slice(0, 2), `${hash}.json`);
  }

  private async readRecord(kind: 'values' | 'sets', key: string): Promise<Record<string, unknown> | null> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.recordPath(kind, key), 'utf8'));
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  private async writeRecord(kind: 'values' | 'sets', key: string, record: object): Promise<void> {
    const path = this.recordPath(kind, key);
    const dir = join(path, '..');
    await mkdir(dir, { recursive: true });
    const temp = `${path}.${process.pid}.${(this.tempCounter += 1)}.tmp`;
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }
}

async function readdirIfExists(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** A record file's JSON, or null when it vanished or is not an object (a torn temp file is never named .json). */
async function readJsonIfExists(path: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
