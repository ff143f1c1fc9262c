import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { useRedisServer } from '../support/redis-server.js';
import { run, skopeoPull } from '../support/commands.js';

/**
 * Redis losing its data (restart without persistence, FLUSHALL, eviction, failover to an empty
 * replica) must not break pulls until stowage restarts: the next pull writes back what the
 * registry serves from. Real redis-server, real Nix builds, skopeo as the client.
 */
const redis = useRedisServer();

describe('metadata lost in Redis', () => {
  let registry: RunningRegistry;
  const layouts: string[] = [];
  beforeAll(async () => {
    registry = await startRegistry({ metadata: { backend: 'redis', redis: { url: redis().url } }, builds: { requestWaitMs: 600_000 } });
  });
  afterAll(async () => {
    await registry?.close();
    await Promise.all(layouts.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const redisCli = (...args: string[]) => run('redis-cli', ['-p', String(redis().port), ...args]);

  async function pull(): Promise<void> {
    const layout = await mkdtemp(join(tmpdir(), 'stowage-flush-'));
    layouts.push(layout);
    await skopeoPull(registry.host, 'shell/hello:latest', layout);
  }

  /** What the pull served: every blob and the tag must answer under the name. */
  async function expectServed(): Promise<void> {
    const manifest = await fetch(`${registry.url}/v2/shell/hello/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(manifest.status).toBe(200);
    const body = (await manifest.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    for (const digest of [body.config.digest, ...body.layers.map((layer) => layer.digest)]) {
      // GET: an anonymous blob HEAD meets the Bearer challenge (pushers ask it).
      expect((await fetch(`${registry.url}/v2/hello/shell/blobs/${digest}`)).status, digest).toBe(200);
    }
    const digest = manifest.headers.get('docker-content-digest') as string;
    expect((await fetch(`${registry.url}/v2/shell/hello/manifests/${digest}`, { method: 'HEAD' })).status).toBe(200);
    const tags = await fetch(`${registry.url}/v2/shell/hello/tags/list`);
    expect(tags.status).toBe(200);
    expect(((await tags.json()) as { tags: string[] }).tags).toContain('latest');
  }

  it('pulls again after FLUSHALL, with blobs and tags/list served', async () => {
    await pull();
    await expectServed();
    await redisCli('FLUSHALL');
    expect((await redisCli('DBSIZE')).stdout.trim()).toBe('0');
    await pull();
    await expectServed();
  });

  it('writes back sets lost on their own (eviction) on the next pull, without building', async () => {
    await pull();
    const keys = (await redisCli('--scan', '--pattern', 'stowage:s:*hello/shell')).stdout.split('\n').filter(Boolean);
    expect(keys.length).toBeGreaterThanOrEqual(3); // tags, manifests, image-blobs
    await redisCli('DEL', ...keys);
    const nixBefore = registry.nixCommands.length;
    await pull();
    await expectServed();
    expect(registry.nixCommands.length).toBe(nixBefore);
  });
});
