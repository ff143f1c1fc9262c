import { afterAll } from 'vitest';
import { RedisConnection } from '../../src/storage/redis-client.js';
import { RedisMetadataStore } from '../../src/storage/redis-metadata-store.js';
import { useRedisServer } from './redis-server.js';

/**
 * A real redis-server for the file, and a factory of Redis-backed metadata stores, each under a
 * key prefix of its own (`<prefix>1:`, `<prefix>2:`, ...) so tests never see each other's keys.
 * Connections are closed after the file's tests.
 */
export function useRedisMetadataStores(prefix: string): () => Promise<RedisMetadataStore> {
  const redis = useRedisServer();
  const connections: RedisConnection[] = [];
  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
  });
  let stores = 0;
  return async () => {
    const connection = new RedisConnection({ url: redis().url });
    connections.push(connection);
    await connection.connect();
    stores += 1;
    return new RedisMetadataStore(connection, `${prefix}${stores}:`);
  };
}
