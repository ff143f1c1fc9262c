import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { IndexCache } from '../../../../src/sources/debian/archive/index-cache.js';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('index cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-index-cache-'));
    return () => rm(dir, { recursive: true, force: true });
  });

  it('stores by content, refuses bytes that do not match, and leaves no temporary files', async () => {
    const cache = new IndexCache(dir);
    const bytes = Buffer.from('Package: a\n');
    await cache.writeVerified(sha(bytes), bytes);
    expect((await cache.readVerified(sha(bytes)))?.toString()).toBe('Package: a\n');
    await expect(cache.writeVerified(sha(Buffer.from('other')), bytes)).rejects.toThrow(/do not hash/);
    expect(await readdir(join(dir, 'sha256'))).toEqual([sha(bytes)]);
    expect(await cache.readVerified('0'.repeat(64))).toBeNull();
    await expect(cache.readVerified('../../etc/passwd')).rejects.toThrow(/not a SHA256/);
  });

  it('deletes and does not serve a file corrupted on disk', async () => {
    const cache = new IndexCache(dir);
    const bytes = Buffer.from('Package: a\n');
    await cache.writeVerified(sha(bytes), bytes);
    await writeFile(join(dir, 'sha256', sha(bytes)), 'Package: b\n');
    expect(await cache.readVerified(sha(bytes))).toBeNull();
    expect(await readdir(join(dir, 'sha256'))).toEqual([]);
  });

  it('keeps InRelease copies per archive and suite', async () => {
    const cache = new IndexCache(dir);
    await cache.writeInRelease('http://127.0.0.1:9/a/', 'stable', Buffer.from('one'));
    await cache.writeInRelease('http://127.0.0.1:9/b/', 'stable', Buffer.from('two'));
    expect((await cache.readInRelease('http://127.0.0.1:9/a/', 'stable'))?.toString()).toBe('one');
    expect((await cache.readInRelease('http://127.0.0.1:9/b/', 'stable'))?.toString()).toBe('two');
    expect(await cache.readInRelease('http://127.0.0.1:9/a/', 'testing')).toBeNull();
  });

  it('prunes all but the live files and the most recently used others', async () => {
    const cache = new IndexCache(dir);
    const files = ['a', 'b', 'c', 'd'].map((t) => Buffer.from(t));
    for (const [i, bytes] of files.entries()) {
      await cache.writeVerified(sha(bytes), bytes);
      await utimes(join(dir, 'sha256', sha(bytes)), 1000 + i, 1000 + i);
    }
    const [a, , , d] = files.map(sha) as [string, string, string, string];
    expect(await cache.prune(new Set([a]), 1)).toBe(2);
    expect((await readdir(join(dir, 'sha256'))).sort()).toEqual([a, d].sort());
  });
});
