import { describe, expect, it } from 'vitest';
import type { LockManager } from '../../src/storage/types.js';
import { MemoryLockManager } from '../../src/storage/memory-lock-manager.js';

function describeLockManagerContract(name: string, factory: () => Promise<LockManager>): void {
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
      let release!: () => void;
      const held = locks.withLock('a', 10_000, () => new Promise<void>((resolve) => (release = resolve)));
      const other = await locks.withLock('b', 10_000, async () => 'ran');
      expect(other).toBe('ran');
      release();
      await held;
    });

    it('releases the lock when the holder throws', async () => {
      const locks = await factory();
      await expect(locks.withLock('k', 10_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await locks.withLock('k', 10_000, async () => 'next')).toBe('next');
    });

    it('stops waiting when the signal aborts', async () => {
      const locks = await factory();
      let release!: () => void;
      const held = locks.withLock('k', 10_000, () => new Promise<void>((resolve) => (release = resolve)));
      const controller = new AbortController();
      const waiting = locks.withLock('k', 10_000, async () => 'should not run', controller.signal);
      controller.abort(new Error('gave up'));
      await expect(waiting).rejects.toThrow('gave up');
      release();
      await held;
      expect(await locks.withLock('k', 10_000, async () => 'free')).toBe('free');
    });
  });
}

describeLockManagerContract('memory', async () => new MemoryLockManager());
