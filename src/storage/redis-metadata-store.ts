import type { MetadataStore } from './types.js';
import type { RedisConnection } from './redis-client.js';

/**
 * Metadata in Redis, shared by every replica.
 *
 * Keys, under `keyPrefix` (default `stowage:`):
 *   <prefix>v:<key>    string values (image and layer records, as JSON)
 *   <prefix>s:<key>    Redis sets (tags, manifest digests), returned sorted
 *
 * Values are written only after their blobs are committed (the builder's rule), so any replica
 * that reads a record finds its blobs. Every failure is a StorageUnavailableError; wrap this
 * store in CachingMetadataStore to keep serving known records while Redis is away.
 */
export class RedisMetadataStore implements MetadataStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keyPrefix = 'stowage:',
  ) {}

  get(key: string): Promise<string | null> {
    return this.redis.run('GET', (client) => client.get(this.valueKey(key)));
  }

  async set(key: string, value: string): Promise<void> {
    await this.redis.run('SET', (client) => client.set(this.valueKey(key), value));
  }

  async delete(key: string): Promise<void> {
    await this.redis.run('DEL', (client) => client.del(this.valueKey(key), this.setKey(key)));
  }

  async addToSet(key: string, member: string): Promise<void> {
    await this.redis.run('SADD', (client) => client.sadd(this.setKey(key), member));
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.redis.run('SREM', (client) => client.srem(this.setKey(key), member));
  }

  async members(key: string): Promise<string[]> {
    const members = await this.redis.run('SMEMBERS', (client) => client.smembers(this.setKey(key)));
    return members.sort();
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

  private valueKey(key: string): string {
    return `${this.keyPrefix}v:${key}`;
  }

  private setKey(key: string): string {
    return `${this.keyPrefix}s:${key}`;
  }
}
