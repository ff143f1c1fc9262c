import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ClosureWindow } from '../../../src/builder/closure-window.js';
import { loadCoOccurrenceFile, parseCoOccurrence, serialiseCoOccurrence } from '../../../src/builder/co-occurrence-file.js';
import { FrozenCoOccurrence } from '../../../src/builder/frozen-co-occurrence.js';
import { coOccurrenceOf, packageName } from '../../../src/layering/index.js';
import { FsMetadataStore } from '../../../src/storage/fs-metadata-store.js';
import { MemoryLockManager } from '../../../src/storage/memory-lock-manager.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import type { MetadataStore } from '../../../src/storage/types.js';

const path = (name: string): string => `/nix/store/${'a'.repeat(32)}-${name}-1.0`;
const closure = (...names: string[]): string[] => names.map(path);
const silent = pino({ level: 'silent' });
const HOUR = 60 * 60 * 1000;

async function keyCount(store: MetadataStore, prefix: string): Promise<number> {
  let count = 0;
  for await (const key of store.keys?.() ?? []) if (key.startsWith(prefix)) count += 1;
  return count;
}

describe('ClosureWindow', () => {
  it('keeps the most recent distinct closures, oldest first, and survives a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-cooc-'));
    let clock = 1_000;
    const window = new ClosureWindow(new FsMetadataStore(dir), { limit: 3, now: () => clock });
    for (const names of [['a'], ['b'], ['c'], ['d'], ['e']]) {
      clock += 1;
      await window.record(closure(...names));
    }
    const reopened = new FsMetadataStore(dir);
    expect(await new ClosureWindow(reopened, { limit: 3 }).closures()).toEqual([['c'], ['d'], ['e']]);
    // The records of the closures that fell out are gone too: the store stays bounded.
    expect(await keyCount(reopened, 'cooc-image:')).toBe(3);
  });

  it('records an image again as the most recent instead of twice', async () => {
    let clock = 1_000;
    const window = new ClosureWindow(new MemoryMetadataStore(), { limit: 2, now: () => (clock += 1) });
    await window.record(closure('a', 'b'));
    await window.record(closure('c'));
    await window.record([path('b'), `/nix/store/${'f'.repeat(32)}-a-2.0`]); // the same names, another build
    expect(await window.closures()).toEqual([['c'], ['a', 'b']]);
    await window.record(closure('d'));
    expect(await window.closures()).toEqual([['a', 'b'], ['d']]);
  });

  it('keys Debian paths by package name', () => {
    expect(packageName('/debian/libc6_2.36-9+deb12u4_amd64')).toBe('libc6');
    expect(packageName(path('openssh-client'))).toBe('openssh-client');
  });
});

describe('the table file format', () => {
  it('round-trips a table and gives it a version that follows its content', () => {
    const table = coOccurrenceOf([closure('a', 'b'), closure('a'), closure('c')]);
    const text = serialiseCoOccurrence(table);
    const parsed = parseCoOccurrence(text, 'test');
    expect(parsed.table.total).toBe(3);
    expect(parsed.table.images).toEqual(table.images);
    expect([...(parsed.table.signatures.get('a') ?? [])]).toEqual([...(table.signatures.get('a') ?? [])]);
    expect(serialiseCoOccurrence(parsed.table)).toBe(text);
    expect(parseCoOccurrence(serialiseCoOccurrence(coOccurrenceOf([closure('a')])), 'x').version).not.toBe(parsed.version);
  });

  it('refuses a file that is not a table, naming the file and the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-cooc-file-'));
    const file = join(dir, 'table.json');
    const good = JSON.parse(serialiseCoOccurrence(coOccurrenceOf([closure('a')]))) as { names: Record<string, [number, string]> };
    const cases: Array<[unknown, RegExp]> = [
      [[], /must hold a JSON object/],
      [{ ...good, format: 'other' }, /"format" must be/],
      [{ ...good, images: -1 }, /"images" must be/],
      [{ ...good, names: { a: [2, good.names.a?.[1]] } }, /count of "a" must be an integer from 1 to 1/],
      [{ ...good, names: { a: [1, 'AAAA'] } }, /signature of "a" must be 256 bytes/],
    ];
    for (const [content, message] of cases) {
      await writeFile(file, JSON.stringify(content));
      await expect(loadCoOccurrenceFile(file)).rejects.toThrow(message);
      await expect(loadCoOccurrenceFile(file)).rejects.toThrow(file);
    }
    await writeFile(file, '{ not json');
    await expect(loadCoOccurrenceFile(file)).rejects.toThrow(/is not JSON/);
  });
});

describe('FrozenCoOccurrence', () => {
  const setup = (metadata: MetadataStore, clock: { now: number }) => {
    const now = () => clock.now;
    const window = new ClosureWindow(metadata, { limit: 100, now });
    const frozen = new FrozenCoOccurrence({ metadata, locks: new MemoryLockManager(), window, logger: silent }, { periodMs: 24 * HOUR, lockTtlMs: 60_000, now });
    return { window, frozen };
  };

  it('recomputes the table only once the period has passed, and a restart reads it back', async () => {
    const metadata = new MemoryMetadataStore();
    const clock = { now: 10 * HOUR };
    const { window, frozen } = setup(metadata, clock);
    await frozen.sync();
    expect(frozen.current()).toBeNull(); // no closures yet: layer as without a table
    await window.record(closure('a', 'b'));
    clock.now += 25 * HOUR;
    await frozen.sync();
    const first = frozen.current();
    expect(first?.table.total).toBe(1);

    await window.record(closure('c'));
    clock.now += 23 * HOUR;
    await frozen.sync();
    expect(frozen.current()?.version).toBe(first?.version);
    const restarted = setup(metadata, clock).frozen;
    await restarted.sync();
    expect(restarted.current()?.version).toBe(first?.version);

    clock.now += 2 * HOUR;
    await frozen.sync();
    expect(frozen.current()?.table.total).toBe(2);
    expect(frozen.current()?.version).not.toBe(first?.version);
    // Another process adopts the new table at its next check instead of computing its own.
    await restarted.sync();
    expect(restarted.current()?.version).toBe(frozen.current()?.version);
  });

  it('keeps the version when the window did not change', async () => {
    const metadata = new MemoryMetadataStore();
    const clock = { now: 0 };
    const { window, frozen } = setup(metadata, clock);
    await window.record(closure('a', 'b'));
    await frozen.sync();
    const version = frozen.current()?.version;
    clock.now += 48 * HOUR;
    await frozen.sync();
    expect(frozen.current()?.version).toBe(version);
    expect(version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('checks for a new table from current() only every checkEveryMs, in the background', async () => {
    const metadata = new MemoryMetadataStore();
    const clock = { now: 0 };
    const gets: string[] = [];
    const counted: MetadataStore = Object.assign(Object.create(metadata) as MetadataStore, {
      get: (key: string) => (gets.push(key), metadata.get(key)),
    });
    const { frozen } = setup(counted, clock);
    frozen.current();
    await frozen.idle();
    const afterFirst = gets.length;
    expect(afterFirst).toBeGreaterThan(0);
    clock.now += 30_000;
    frozen.current();
    await frozen.idle();
    expect(gets.length).toBe(afterFirst);
    clock.now += 30_000;
    frozen.current();
    await frozen.idle();
    expect(gets.length).toBeGreaterThan(afterFirst);
  });
});
