import { afterAll, describe, expect, it } from 'vitest';
import { RedisConnection } from '../../src/storage/redis-client.js';
import { LockLostError, RedisLockManager } from '../../src/storage/redis-lock-manager.js';
import { RedisMetadataStore } from '../../src/storage/redis-metadata-store.js';
import { StorageUnavailableError } from '../../src/storage/errors.js';
import { useRedisServer } from '../support/redis-server.js';

const redis = useRedisServer();
const connections: RedisConnection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
});
let prefixes = 0;

async function connect(url = redis().url): Promise<RedisConnection> {
  const connection = new RedisConnection({ url, commandTimeoutMs: 500 });
  connections.push(connection);
  await connection.connect();
  return connection;
}

async function replica(prefix: string): Promise<{ locks: RedisLockManager; connection: RedisConnection }> {
  const connection = await connect();
  return { connection, locks: new RedisLockManager(connection, { keyPrefix: prefix, pollMinMs: 10, pollMaxMs: 50 }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisLockManager', () => {
  it('renews the lock while the holder works past its TTL', async () => {
    const prefix = `renew${(prefixes += 1)}:`;
    const a = await replica(prefix);
    const b = await replica(prefix);
    const order: string[] = [];
    const first = a.locks.withLock('k', 300, async () => {
      order.push('a start');
      await sleep(800);
      order.push('a end');
    });
    await sleep(50);
    const second = b.locks.withLock('k', 300, async () => {
      order.push('b');
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['a start', 'a end', 'b']);
  });

  it('lets a waiter in once a crashed holder’s key expires, and not before', async () => {
    const prefix = `crash${(prefixes += 1)}:`;
    const { connection, locks } = await replica(prefix);
    // A holder that died right after taking the lock: its token stays until the TTL runs out.
    await connection.client.set(`${prefix}lock:k`, 'dead-holder', 'PX', 600);
    expect(await connection.client.pttl(`${prefix}lock:k`)).toBeGreaterThan(0);
    // The lock is taken with SET NX: inside, the key holds the waiter's own token, so the
    // dead holder's key had expired first (not before), and the waiter did get in (not never).
    const holder = await locks.withLock('k', 600, async () => connection.client.get(`${prefix}lock:k`));
    expect(holder).toEqual(expect.any(String));
    expect(holder).not.toBe('dead-holder');
  });

  it('releases only its own lock', async () => {
    const prefix = `own${(prefixes += 1)}:`;
    const { connection, locks } = await replica(prefix);
    await locks.withLock('k', 5_000, async () => {
      // Someone took over (our key expired meanwhile, say).
      await connection.client.set(`${prefix}lock:k`, 'successor', 'PX', 5_000);
    }).catch(() => undefined);
    expect(await connection.client.get(`${prefix}lock:k`)).toBe('successor');
  });

  it('rejects with LockLostError when another holder took the key', async () => {
    const prefix = `lost${(prefixes += 1)}:`;
    const { connection, locks } = await replica(prefix);
    let finished = false;
    const held = locks.withLock('k', 300, async () => {
      await connection.client.set(`${prefix}lock:k`, 'thief', 'PX', 5_000);
      await sleep(1_000);
      finished = true;
      return 'done';
    });
    const error = await held.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(finished).toBe(false);
  });

  it('stops polling when the signal aborts', async () => {
    const prefix = `abort${(prefixes += 1)}:`;
    const { connection, locks } = await replica(prefix);
    await connection.client.set(`${prefix}lock:k`, 'someone', 'PX', 10_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('client went away')), 100);
    await expect(locks.withLock('k', 10_000, async () => 'ran', controller.signal)).rejects.toThrow('client went away');
  });

  it('fails with StorageUnavailableError, running nothing, when Redis is unreachable', async () => {
    const connection = new RedisConnection({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    connections.push(connection);
    expect(await connection.connect()).toBe(false);
    const locks = new RedisLockManager(connection);
    let ran = false;
    await expect(locks.withLock('k', 1_000, async () => (ran = true))).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(ran).toBe(false);
    await expect(new RedisMetadataStore(connection).get('k')).rejects.toThrow(/Redis at 127\.0\.0\.1:1 is unreachable \(GET: not connected\)/);
    await expect(connection.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});

describe('RedisMetadataStore', () => {
  it('lists its keys under its prefix only', async () => {
    const connection = await connect();
    const store = new RedisMetadataStore(connection, `keys${(prefixes += 1)}:`);
    const other = new RedisMetadataStore(connection, `other${prefixes}:`);
    await store.set('image:a', '1');
    await store.addToSet('tags:a', 'latest');
    await store.set('odd*[key]', '2');
    await other.set('image:b', '3');
    await store.set('gone', 'x');
    await store.delete('gone');
    await store.addToSet('emptied', 'm');
    await store.removeFromSet('emptied', 'm');
    const keys: string[] = [];
    for await (const key of store.keys()) keys.push(key);
    expect(keys.sort()).toEqual(['image:a', 'odd*[key]', 'tags:a']);
  });
});
