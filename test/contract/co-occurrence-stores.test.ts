import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ClosureWindow } from '../../src/builder/closure-window.js';
import { FrozenCoOccurrence } from '../../src/builder/frozen-co-occurrence.js';
import { FsMetadataStore } from '../../src/storage/fs-metadata-store.js';
import { MemoryLockManager } from '../../src/storage/memory-lock-manager.js';
import { MemoryMetadataStore } from '../../src/storage/memory-metadata-store.js';
import { RedisConnection } from '../../src/storage/redis-client.js';
import { RedisLockManager } from '../../src/storage/redis-lock-manager.js';
import { RedisMetadataStore } from '../../src/storage/redis-metadata-store.js';
import type { LockManager, MetadataStore } from '../../src/storage/types.js';
import { useRedisServer } from '../support/redis-server.js';

const redis = useRedisServer();
const connections: RedisConnection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
});
let prefixes = 0;
const HOUR = 60 * 60 * 1000;
const closure = (...names: string[]): string[] => names.map((name) => `/nix/store/${'b'.repeat(32)}-${name}-1.0`);

/** Two processes sharing one metadata store and one lock space (replicas, or a process and its restart). */
type Replicas = () => Promise<Array<{ metadata: MetadataStore; locks: LockManager }>>;

function describeCoOccurrenceOn(name: string, replicas: Replicas): void {
  describe(`co-occurrence window and table on ${name}`, () => {
    it('bounds the window and shares one table between processes, recomputed only after the period', async () => {
      const clock = { now: 1000 * HOUR };
      const now = () => clock.now;
      const [a, b] = (await replicas()) as [{ metadata: MetadataStore; locks: LockManager }, { metadata: MetadataStore; locks: LockManager }];
      const frozen = [a, b].map(({ metadata, locks }) => {
        const window = new ClosureWindow(metadata, { limit: 3, now });
        return { window, table: new FrozenCoOccurrence({ metadata, locks, window, logger: pino({ level: 'silent' }) }, { periodMs: 24 * HOUR, lockTtlMs: 10_000, now }) };
      }) as [{ window: ClosureWindow; table: FrozenCoOccurrence }, { window: ClosureWindow; table: FrozenCoOccurrence }];
      for (const names of [['a'], ['b'], ['c'], ['d']]) {
        clock.now += 1;
        await frozen[names[0] === 'b' || names[0] === 'd' ? 1 : 0].window.record(closure(...names, 'base'));
      }
      expect(await frozen[1].window.closures()).toEqual([['b', 'base'], ['base', 'c'], ['base', 'd']]);
      await Promise.all([frozen[0].table.sync(), frozen[1].table.sync()]);
      const version = frozen[0].table.current()?.version;
      expect(version).toBeDefined();
      expect(frozen[1].table.current()?.version).toBe(version);
      expect(frozen[0].table.current()?.table.total).toBe(3);
      clock.now += 1;
      await frozen[0].window.record(closure('e'));
      clock.now += 23 * HOUR;
      await frozen[1].table.sync();
      expect(frozen[1].table.current()?.version).toBe(version);
      clock.now += 2 * HOUR;
      await frozen[1].table.sync();
      await frozen[0].table.sync();
      expect(frozen[1].table.current()?.version).not.toBe(version);
      expect(frozen[0].table.current()?.version).toBe(frozen[1].table.current()?.version);
    });
  });
}

describeCoOccurrenceOn('memory', async () => {
  const metadata = new MemoryMetadataStore();
  const locks = new MemoryLockManager();
  return [{ metadata, locks }, { metadata, locks }];
});

// One process owns a metadata directory (its store caches reads): restarts are in the unit test.
describeCoOccurrenceOn('fs', async () => {
  const metadata = new FsMetadataStore(await mkdtemp(join(tmpdir(), 'stowage-cooc-fs-')));
  const locks = new MemoryLockManager();
  return [{ metadata, locks }, { metadata, locks }];
});

describeCoOccurrenceOn('redis (two replicas)', async () => {
  prefixes += 1;
  const keyPrefix = `cooc${prefixes}:`;
  return Promise.all(
    [0, 1].map(async () => {
      const connection = new RedisConnection({ url: redis().url });
      connections.push(connection);
      await connection.connect();
      return { metadata: new RedisMetadataStore(connection, keyPrefix), locks: new RedisLockManager(connection, { keyPrefix }) };
    }),
  );
});
