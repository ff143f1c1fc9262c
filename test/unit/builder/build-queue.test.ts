import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { BuildQueue } from '../../../src/builder/build-queue.js';
import { BuildQueueFullError, ClientBuildsFullError } from '../../../src/builder/errors.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

/**
 * Sweep 4, F4: a flood of names nobody else asks for, from one client, filled the build queue
 * and a legitimate first pull got 429. Each client address now has a share of the queue.
 */
describe('BuildQueue', () => {
  it('counts builds running and waiting per client, frees a place when one ends, and leaves uncounted runs alone', async () => {
    const queue = new BuildQueue(1, 10, 2);
    const gates: Array<() => void> = [];
    const held = () => new Promise<void>((resolve) => gates.push(resolve));
    const a1 = queue.run(held, 'a');
    const a2 = queue.run(held, 'a');
    await expect(queue.run(held, 'a')).rejects.toBeInstanceOf(ClientBuildsFullError);
    await expect(queue.run(held, 'a')).rejects.toBeInstanceOf(BuildQueueFullError);
    const b1 = queue.run(held, 'b');
    const cli = queue.run(held);
    expect(queue.stats).toEqual({ running: 1, queued: 3 });
    for (let ended = 0; ended < 4; ended += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
    }
    await Promise.all([a1, a2, b1, cli]);
    const again = queue.run(async () => 'ran', 'a');
    expect(await again).toBe('ran');
  });
});

/** An in-process registry over the fake source where each client may have one build at a time. */
async function appWithOneBuildPerClient(): Promise<{ source: FakePackageSource; app: App }> {
  const source = await FakePackageSource.create();
  const app = await buildApp(
    parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'] }, builds: { maxPerClient: 1 } }),
    { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
  return { source, app };
}

describe('pulls from one client past builds.maxPerClient', () => {
  it('are answered 429 when they would start a build; joining its own running build and other clients are served', async () => {
    const { source, app } = await appWithOneBuildPerClient();
    const pull = (name: string, remoteAddress: string) => app.server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest`, remoteAddress });
    const slow = pull('slow', '192.0.2.1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await pull('tool', '192.0.2.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.json().errors[0]).toMatchObject({ code: 'TOOMANYREQUESTS', message: expect.stringContaining('this client already has 1 image builds') });
    expect((await pull('tool', '192.0.2.2')).statusCode).toBe(200);
    // The same image again joins the running build: nothing new is counted.
    const joined = pull('slow', '192.0.2.1');
    source.release();
    expect((await slow).statusCode).toBe(200);
    expect((await joined).statusCode).toBe(200);
    expect((await pull('extra', '192.0.2.1')).statusCode).toBe(200);
    await app.server.close();
  });
});

describe('recent builds', () => {
  it('keep builds that ran, failed ones too, and not pulls of unknown packages or ones the queue refused', async () => {
    const { source, app } = await appWithOneBuildPerClient();
    const pull = (name: string) => app.server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest` });
    expect((await pull('nosuchpackage')).statusCode).toBe(404);
    expect((await pull('broken')).statusCode).toBe(500);
    const slow = pull('slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await pull('tool')).statusCode).toBe(429);
    source.release();
    expect((await slow).statusCode).toBe(200);
    const builds = (await app.server.inject({ method: 'GET', url: '/api/v1/builds' })).json() as { builds: Array<{ image: string; phase: string }> };
    expect(builds.builds.map((build) => `${build.image} ${build.phase}`).sort()).toEqual(['broken failed', 'slow done']);
    await app.server.close();
  });
});
