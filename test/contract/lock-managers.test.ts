import { afterAll, describe, expect, it } from 'vitest';
import type { LockManager } from '../../src/storage/types.js';
import { MemoryLockManager } from '../../src/storage/memory-lock-manager.js';
import { RedisConnection } from '../../src/storage/redis-client.js';
import { RedisLockManager } from '../../src/storage/redis-lock-manager.js';
import { useRedisServer } from '../support/redis-server.js';

const redis = useRedisServer();
const connections: RedisConnection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
});
let prefixes = 0;

/** Take `key` and keep it until `release` is called; resolves once the holder is inside. */
async function holdLock(locks: LockManager, key: string): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const done = locks.withLock(key, 10_000, () => {
    entered();
    return new Promise<void>((resolve) => (release = resolve));
  });
  await inside;
  return { release, done };
}

/**
 * `factory` gives `count` managers sharing one lock space: the same instance in-process, or
 * one per simulated replica (each with its own connection) for distributed implementations.
 */
function describeLockManagerContract(name: string, replicas: (count: number) => Promise<LockManager[]>): void {
  const factory = async (): Promise<LockManager> => (await replicas(1))[0] as LockManager;
  describe(`LockManager contract: ${name}`, () => {
    it('runs holders of one key one at a time', async () => {
      const locks = await factory();
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 10 }, () =>
          locks.withLock('k', 10_000, async () => {
            inside += 1;
            maxInside = Math.max(maxInside, inside);
            await new Promise((resolve) => setTimeout(resolve, 2));
            inside -= 1;
          }),
        ),
      );
      expect(maxInside).toBe(1);
    });

    it('lets different keys run at the same time', async () => {
      const locks = await factory();
      const held = await holdLock(locks, 'a');
      const other = await locks.withLock('b', 10_000, async () => 'ran');
      expect(other).toBe('ran');
      held.release();
      await held.done;
    });

    it('excludes holders of one key across every manager sharing the backend', async () => {
      const managers = await replicas(3);
      let inside = 0;
      let maxInside = 0;
      let runs = 0;
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (managers[i % managers.length] as LockManager).withLock('shared', 10_000, async () => {
            inside += 1;
            runs += 1;
            maxInside = Math.max(maxInside, inside);
            await new Promise((resolve) => setTimeout(resolve, 3));
            inside -= 1;
          }),
        ),
      );
      expect(runs).toBe(12);
      expect(maxInside).toBe(1);
    });

    it('releases the lock when the holder throws', async () => {
      const locks = await factory();
      await expect(locks.withLock('k', 10_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await locks.withLock('k', 10_000, async () => 'next')).toBe('next');
    });

    it('stops waiting when the signal aborts', async () => {
      const locks = await factory();
      const held = await holdLock(locks, 'k');
      const controller = new AbortController();
      const waiting = locks.withLock('k', 10_000, async () => 'should not run', controller.signal);
      controller.abort(new Error('gave up'));
      await expect(waiting).rejects.toThrow('gave up');
      held.release();
      await held.done;
      expect(await locks.withLock('k', 10_000, async () => 'free')).toBe('free');
    });
  });
}

describeLockManagerContract('memory', async (count) => {
  const shared = new MemoryLockManager();
  return Array.from({ length: count }, () => shared);
});
describeLockManagerContract('redis', async (count) => {
  prefixes += 1;
  const keyPrefix = `contract${prefixes}:`;
  return Promise.all(
    Array.from({ length: count }, async () => {
      const connection = new RedisConnection({ url: redis().url });
      connections.push(connection);
      await connection.connect();
      return new RedisLockManager(connection, { keyPrefix });
    }),
  );
});
