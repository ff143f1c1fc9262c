import { afterAll } from 'vitest';
import { RedisConnection } from '../../src/storage/redis-client.js';
import { RedisMetadataStore, type RedisMetadataStoreOptions } from '../../src/storage/redis-metadata-store.js';
import { useRedisServer } from './redis-server.js';

/**
 * A real redis-server for the file, and a factory of Redis-backed metadata stores, each under a
 * key prefix of its own (`<prefix>1:`, `<prefix>2:`, ...) so tests never see each other's keys.
 * Connections are closed after the file's tests. `keyPrefix` puts a store on keys of an earlier
 * one (a second replica, or a restart).
 */
export function useRedisMetadataStores(prefix: string): (options?: RedisMetadataStoreOptions & { readonly keyPrefix?: string }) => Promise<RedisMetadataStore> {
  const redis = useRedisServer();
  const connections: RedisConnection[] = [];
  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
  });
  let stores = 0;
  return async (options = {}) => {
    const connection = new RedisConnection({ url: redis().url });
    connections.push(connection);
    await connection.connect();
    stores += 1;
    return new RedisMetadataStore(connection, options.keyPrefix ?? `${prefix}${stores}:`, options);
  };
}
