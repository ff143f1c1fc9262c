import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { routeLabel } from '../../../src/metrics/http-metrics.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { REPO_ROOT } from '../../support/registry-server.js';

let source: FakePackageSource;
const apps: App[] = [];

async function makeApp(config: ConfigInput = {}): Promise<App> {
  const app = await buildApp(
    parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-metrics-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] }, ...config }),
    { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
  apps.push(app);
  return app;
}

/** The value of one sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) return Number(match[4]);
  }
  return undefined;
}

beforeEach(async () => {
  source = await FakePackageSource.create();
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.server.close()));
});

describe('GET /metrics', () => {
  it('counts builds, cache hits and misses, requests and bytes served', async () => {
    const { server } = await makeApp();
    const first = await server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest' });
    expect(first.statusCode).toBe(200);
    await server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest' });
    const layer = (first.json() as { layers: Array<{ digest: string; size: number }> }).layers[0] as { digest: string; size: number };
    await server.inject({ method: 'GET', url: `/v2/shell/tool/blobs/${layer.digest}` });
    await server.inject({ method: 'GET', url: '/v2/shell/tool/blobs/sha256:' + '0'.repeat(64) });
    await server.inject({ method: 'GET', url: '/no/such/page' });

    const response = await server.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    expect(sample(text, 'stowage_builds_total', { result: 'done' })).toBe(1);
    expect(sample(text, 'stowage_build_duration_seconds_count', { result: 'done' })).toBe(1);
    expect(sample(text, 'stowage_image_cache_requests_total', { result: 'miss' })).toBe(1);
    expect(sample(text, 'stowage_image_cache_requests_total', { result: 'hit' })).toBe(1);
    const layers = first.json().layers.length as number;
    expect(sample(text, 'stowage_layer_cache_requests_total', { result: 'miss' })).toBe(layers);
    expect(sample(text, 'stowage_layer_built_bytes_total')).toBeGreaterThan(0);
    expect(sample(text, 'stowage_served_bytes_total', { kind: 'blob' })).toBe(layer.size);
    expect(sample(text, 'stowage_served_bytes_total', { kind: 'manifest' })).toBe(2 * first.rawPayload.length);
    expect(sample(text, 'stowage_http_requests_total', { route: '/v2/<name>/manifests/<reference>', method: 'GET', status: '200' })).toBe(2);
    expect(sample(text, 'stowage_http_requests_total', { route: '/v2/<name>/blobs/<digest>', method: 'GET', status: '404' })).toBe(1);
    expect(sample(text, 'stowage_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(sample(text, 'stowage_builds_in_flight')).toBe(0);
    expect(sample(text, 'stowage_builds_queued')).toBe(0);
    // prom-client's standard names, so stock Node.js dashboards find them.
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).not.toContain('stowage_process_');
    const version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(sample(text, 'stowage_build_info', { version, node: process.version })).toBe(1);
  });

  it('shows builds in flight and failed builds', async () => {
    const app = await makeApp({ builds: { concurrency: 1 } });
    const slow = app.builder.build((await import('../../../src/image-name/image-name.js')).parseImageName('slow', 'latest', {
      maxPackages: 10, shellPackages: ['minishell'], systems: ['x86_64-linux'], compression: 'gzip',
    }));
    await app.server.inject({ method: 'POST', url: '/api/v1/builds/tool' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    let text = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(text, 'stowage_builds_in_flight')).toBe(1);
    expect(sample(text, 'stowage_builds_queued')).toBe(1);
    source.release();
    await slow;
    await app.server.inject({ method: 'GET', url: '/v2/broken/manifests/latest' });
    text = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(text, 'stowage_builds_total', { result: 'failed' })).toBe(1);
  });

  it('keeps each app in its own registry, and can be turned off', async () => {
    const one = await makeApp();
    const two = await makeApp({ metrics: { enabled: false } });
    await one.server.inject({ method: 'GET', url: '/v2/' });
    expect(sample((await one.server.inject({ method: 'GET', url: '/metrics' })).body, 'stowage_http_requests_total', { route: '/v2/' })).toBe(1);
    expect((await two.server.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    expect(await two.metrics.registry.getSingleMetricAsString('stowage_http_requests_total')).not.toContain('route="/v2/"');
  });
});

describe('routeLabel', () => {
  const label = (url: string, pattern: string | null = '/v2/*') => routeLabel({ url, routeOptions: { url: pattern ?? undefined } } as Parameters<typeof routeLabel>[0]);
  it('names the /v2/ endpoint, never the raw URL', () => {
    expect(label('/v2/shell/git/manifests/latest')).toBe('/v2/<name>/manifests/<reference>');
    expect(label('/v2/a/blobs/sha256:abc?x=1')).toBe('/v2/<name>/blobs/<digest>');
    expect(label('/v2/a/blobs/uploads/')).toBe('/v2/<name>/blobs/uploads');
    expect(label('/v2/a/blobs/uploads/123')).toBe('/v2/<name>/blobs/uploads');
    expect(label('/v2/a/b/tags/list')).toBe('/v2/<name>/tags/list');
    expect(label('/api/v1/images/x', '/api/v1/images/*')).toBe('/api/v1/images/*');
    expect(label('/whatever', null)).toBe('unmatched');
  });
});
