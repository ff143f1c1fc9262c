import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { skopeoPull } from '../support/commands.js';
import { DEBIAN_TEST_CACHE } from '../support/debian.js';

/**
 * Concurrent pulls of images that share packages, on an empty `.deb` cache (the verified
 * indexes are copied from the shared cache so only `.deb`s are downloaded: a few MB).
 */
describe('concurrent Debian pulls', () => {
  let registry: RunningRegistry;
  let cacheDir: string;
  let work: string;
  const downloads: string[] = [];

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'stowage-debian-concurrent-'));
    work = await mkdtemp(join(tmpdir(), 'stowage-debian-pulls-'));
    await cp(join(DEBIAN_TEST_CACHE, 'index'), join(cacheDir, 'index'), { recursive: true }).catch(() => undefined);
    registry = await startRegistry(
      { source: { kind: 'debian', debian: { cacheDir } }, builds: { concurrency: 3, requestWaitMs: 600_000 } },
      { debianFetcher: { onDownload: (pkg) => downloads.push(`${pkg.name} ${pkg.sha256}`) } },
    );
  }, 300_000);

  afterAll(async () => {
    await registry?.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('fetches each .deb once for concurrent pulls of overlapping images', { timeout: 900_000 }, async () => {
    await Promise.all([
      skopeoPull(registry.host, 'jq:latest', join(work, 'a')),
      skopeoPull(registry.host, 'jq:latest', join(work, 'b')),
      skopeoPull(registry.host, 'jq/mawk:latest', join(work, 'c')),
      skopeoPull(registry.host, 'libonig5/mawk:latest', join(work, 'd')),
    ]);
    const names = downloads.map((line) => line.split(' ')[0]);
    expect(names).toEqual(expect.arrayContaining(['jq', 'libjq1', 'libonig5', 'libc6', 'mawk']));
    // Every .deb was downloaded exactly once, though up to three images needed it at once.
    expect(new Set(downloads).size).toBe(downloads.length);
  });
});
