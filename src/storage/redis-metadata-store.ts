import type { ChainableCommander } from 'ioredis';
import type { MetadataStore } from './types.js';
import type { RedisConnection } from './redis-client.js';
import { pageAfter } from './sorted-page.js';

export interface RedisMetadataStoreOptions {
  /**
   * Sets that listings page through (`membersAfter`): each also kept as a sorted set, so a
   * page reads only itself. Any other set is read whole for a page.
   */
  readonly orderedSets?: readonly string[];
}

/** Members read or reconciled per round trip while bringing an ordered set's order up to date. */
const SYNC_BATCH = 500;

/**
 * For each member given: in the sorted set exactly when in the set. Atomic per call, so a
 * member removed meanwhile is never put back (the set is what is true).
 */
const SYNC_ORDER_SCRIPT = `
for _, member in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[1], member) == 1 then redis.call('ZADD', KEYS[2], 0, member)
  else redis.call('ZREM', KEYS[2], member) end
end
return #ARGV`;

/**
 * Metadata in Redis, shared by every replica.
 *
 * Keys, under `keyPrefix` (default `stowage:`):
 *   <prefix>v:<key>    string values (image and layer records, as JSON)
 *   <prefix>s:<key>    Redis sets (tags, manifest digests), returned sorted
 *   <prefix>z:<key>    for the ordered sets (listings) only: the same members, score 0, read
 *                      in pages by ZRANGE BYLEX; written with the set in one MULTI
 *
 * Values are written only after their blobs are committed (the builder's rule), so any replica
 * that reads a record finds its blobs. Every failure is a StorageUnavailableError; wrap this
 * store in CachingMetadataStore to keep serving known records while Redis is away.
 * One Redis (or a primary with replicas), not Redis Cluster: a set and its order are written in
 * one MULTI and their keys carry no hash tag, so a cluster would refuse them as CROSSSLOT.
 */
export class RedisMetadataStore implements MetadataStore {
  private readonly ordered: ReadonlySet<string>;
  /** Per ordered set, the reconciliation this process ran (or is running) before its first page. */
  private readonly orderSynced = new Map<string, Promise<void>>();
  /** Per ordered set, a reconciliation started because the counts differed, shared while it runs. */
  private readonly resyncing = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly keyPrefix = 'stowage:',
    options: RedisMetadataStoreOptions = {},
  ) {
    this.ordered = new Set(options.orderedSets ?? []);
  }

  get(key: string): Promise<string | null> {
    return this.redis.run('GET', (client) => client.get(this.valueKey(key)));
  }

  async set(key: string, value: string): Promise<void> {
    await this.redis.run('SET', (client) => client.set(this.valueKey(key), value));
  }

  async delete(key: string): Promise<void> {
    await this.redis.run('DEL', (client) => client.del(this.valueKey(key), this.setKey(key), this.orderKey(key)));
  }

  async addToSet(key: string, member: string): Promise<void> {
    if (!this.ordered.has(key)) {
      await this.redis.run('SADD', (client) => client.sadd(this.setKey(key), member));
      return;
    }
    await this.transaction('SADD', (multi) => multi.sadd(this.setKey(key), member).zadd(this.orderKey(key), 0, member));
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    if (!this.ordered.has(key)) {
      await this.redis.run('SREM', (client) => client.srem(this.setKey(key), member));
      return;
    }
    await this.transaction('SREM', (multi) => multi.srem(this.setKey(key), member).zrem(this.orderKey(key), member));
  }

  async members(key: string): Promise<string[]> {
    const members = await this.redis.run('SMEMBERS', (client) => client.smembers(this.setKey(key)));
    return members.sort();
  }

  async membersAfter(key: string, after: string | undefined, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    if (!this.ordered.has(key)) return pageAfter(await this.members(key), after, limit);
    await this.syncOrder(key);
    if (after === undefined) await this.resyncIfCountsDiffer(key);
    return this.redis.run('ZRANGE BYLEX', (client) => client.zrangebylex(this.orderKey(key), after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, limit));
  }

  async isMember(key: string, member: string): Promise<boolean> {
    return (await this.redis.run('SISMEMBER', (client) => client.sismember(this.setKey(key), member))) === 1;
  }

  /** GETs in one pipeline: one socket write, one round trip, however many keys. */
  async getMany(keys: readonly string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return [];
    const replies = await this.redis.run('GET (pipeline)', (client) => {
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.get(this.valueKey(key));
      return pipeline.exec();
    });
    if (replies === null) throw this.redis.unavailable('GET (pipeline)', new Error('no replies'));
    return replies.map(([error, value]) => {
      if (error) throw this.redis.unavailable('GET (pipeline)', error);
      return typeof value === 'string' ? value : null;
    });
  }

  /** SISMEMBERs in one pipeline. */
  async areMembers(entries: ReadonlyArray<readonly [string, string]>): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const replies = await this.redis.run('SISMEMBER (pipeline)', (client) => {
      const pipeline = client.pipeline();
      for (const [key, member] of entries) pipeline.sismember(this.setKey(key), member);
      return pipeline.exec();
    });
    if (replies === null) throw this.redis.unavailable('SISMEMBER (pipeline)', new Error('no replies'));
    return replies.map(([error, value]) => {
      if (error) throw this.redis.unavailable('SISMEMBER (pipeline)', error);
      return value === 1;
    });
  }

  /** Every key holding a value or a set (Redis drops empty sets), via SCAN: no blocking KEYS. */
  async *keys(signal?: AbortSignal): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const kind of ['v:', 's:']) {
      const prefix = `${this.keyPrefix}${kind}`;
      const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
      let cursor = '0';
      do {
        signal?.throwIfAborted();
        const [next, batch] = await this.redis.run('SCAN', (client) => client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
        cursor = next;
        for (const redisKey of batch) {
          const key = redisKey.slice(prefix.length);
          if (seen.has(key)) continue;
          seen.add(key);
          yield key;
        }
      } while (cursor !== '0');
    }
  }

  /** SCAN over the value keys under `prefix`, a page of up to 1000 at a time (SCAN may repeat a key). */
  async *valueKeys(prefix: string, signal?: AbortSignal): AsyncIterable<string> {
    const start = `${this.keyPrefix}v:`;
    const pattern = `${`${start}${prefix}`.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
    let cursor = '0';
    do {
      signal?.throwIfAborted();
      const [next, batch] = await this.redis.run('SCAN', (client) => client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
      cursor = next;
      for (const redisKey of batch) yield redisKey.slice(start.length);
    } while (cursor !== '0');
  }

  /**
   * Once per process and ordered set, before its first page: make the sorted set hold exactly
   * the set's members. It is written with the set, but a set written by a version before it
   * (or by such a replica during a rolling update) has members the order lacks, or lacks ones
   * the order still has. Reads both in batches; a failure is tried again on the next page.
   */
  private syncOrder(key: string): Promise<void> {
    let synced = this.orderSynced.get(key);
    if (synced === undefined) {
      synced = this.reconcileOrder(key).catch((error: unknown) => {
        this.orderSynced.delete(key);
        throw error;
      });
      this.orderSynced.set(key, synced);
    }
    return synced;
  }

  /**
   * Before a listing's first page: a replica of an older version, still running during a rolling
   * update, writes the set alone, so the two counts part; reconcile again then. One round trip
   * when they agree. (A drift that adds and removes alike keeps the counts equal; the reconcile
   * of the next process to start mends that.)
   */
  private async resyncIfCountsDiffer(key: string): Promise<void> {
    const running = this.resyncing.get(key);
    if (running !== undefined) return running;
    const replies = await this.redis.run('SCARD/ZCARD', (client) => client.pipeline().scard(this.setKey(key)).zcard(this.orderKey(key)).exec());
    if (replies === null) throw this.redis.unavailable('SCARD/ZCARD', new Error('no replies'));
    const [setCount, orderCount] = replies.map(([error, value]) => {
      if (error) throw this.redis.unavailable('SCARD/ZCARD', error);
      return value;
    });
    if (setCount === orderCount) return;
    const again = this.resyncing.get(key) ?? this.reconcileOrder(key).finally(() => this.resyncing.delete(key));
    this.resyncing.set(key, again);
    return again;
  }

  private async reconcileOrder(key: string): Promise<void> {
    const keys = [this.setKey(key), this.orderKey(key)];
    const reconcile = (members: string[]) =>
      members.length === 0 ? Promise.resolve() : this.redis.run('EVAL', (client) => client.eval(SYNC_ORDER_SCRIPT, 2, ...keys, ...members)).then(() => undefined);
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.run('SSCAN', (client) => client.sscan(this.setKey(key), cursor, 'COUNT', SYNC_BATCH));
      cursor = next;
      await reconcile(batch);
    } while (cursor !== '0');
    let after = '-';
    for (;;) {
      const batch = await this.redis.run('ZRANGE BYLEX', (client) => client.zrangebylex(this.orderKey(key), after, '+', 'LIMIT', 0, SYNC_BATCH));
      await reconcile(batch);
      if (batch.length < SYNC_BATCH) return;
      after = `(${batch[batch.length - 1] as string}`;
    }
  }

  /** Commands in one MULTI/EXEC: both or neither. */
  private async transaction(operation: string, commands: (multi: ChainableCommander) => ChainableCommander): Promise<void> {
    const replies = await this.redis.run(operation, (client) => commands(client.multi()).exec());
    if (replies === null) throw this.redis.unavailable(operation, new Error('the transaction was discarded'));
    for (const [error] of replies) if (error) throw this.redis.unavailable(operation, error);
  }

  private orderKey(key: string): string {
    return `${this.keyPrefix}z:${key}`;
  }

  private valueKey(key: string): string {
    return `${this.keyPrefix}v:${key}`;
  }

  private setKey(key: string): string {
    return `${this.keyPrefix}s:${key}`;
  }
}
