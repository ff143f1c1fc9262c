import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource, STORE } from '../../support/fake-source.js';
import { readSse } from './sse-client.js';
import { MAX_IMAGES } from '../../../src/web/api-routes.js';
import { BuiltImageKeys } from '../../../src/storage/metadata-keys.js';

let source: FakePackageSource;
const apps: App[] = [];

async function makeApp(config: ConfigInput = {}): Promise<App> {
  const app = await buildApp(
    parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-web-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] }, ...config }),
    { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
  apps.push(app);
  return app;
}

async function listen(app: App): Promise<string> {
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  source = await FakePackageSource.create();
  Object.assign(source, {
    listPackages: async () => [
      { name: 'extra', version: '2.0', description: 'extra data, uses the tool library' },
      { name: 'minishell', version: '1.0', description: 'a small shell' },
      { name: 'tool', version: '1.0', description: 'the tool' },
      { name: 'toolbox', version: '3.1' },
    ],
    closureSizes: async (_at: unknown, names: readonly string[]) => Object.fromEntries(names.map((name) => [name, name === 'tool' ? 1200 : null])),
  });
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.server.close()));
});

describe('pages and assets', () => {
  it('serves the landing page with a policy that forbids anything not local', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.body).toContain('<label for="package-search">Search packages</label>');
    expect(response.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves the explorer page for any image path, and the static assets', async () => {
    const { server } = await makeApp();
    const page = await server.inject({ method: 'GET', url: '/images/shell/hello:latest' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="build-button"');
    for (const [url, type] of [['/static/style.css', 'text/css'], ['/static/image.js', 'javascript'], ['/static/favicon.svg', 'image/svg+xml']] as const) {
      const asset = await server.inject({ method: 'GET', url });
      expect(asset.statusCode, url).toBe(200);
      expect(asset.headers['content-type']).toContain(type);
    }
    expect((await server.inject({ method: 'GET', url: '/static/../package.json' })).statusCode).toBe(404);
  });

  it('can be turned off', async () => {
    const { server } = await makeApp({ web: { enabled: false } });
    expect((await server.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
    expect((await server.inject({ method: 'GET', url: '/api/v1/info' })).statusCode).toBe(404);
    expect((await server.inject({ method: 'POST', url: '/api/v1/builds/tool' })).statusCode).toBe(404);
  });

  it('asks for credentials where anonymous pulls are off', async () => {
    const { server } = await makeApp({ auth: { anonymousPull: false } });
    for (const [method, url] of [['GET', '/'], ['GET', '/api/v1/info'], ['POST', '/api/v1/builds/tool'], ['GET', '/static/style.css']] as const) {
      const response = await server.inject({ method, url });
      expect(response.statusCode, url).toBe(401);
      expect(response.json().errors[0].code).toBe('UNAUTHORIZED');
    }
  });
});

describe('GET /api/v1/info', () => {
  it('names the host users pull from, the revisions and the systems', async () => {
    const { server } = await makeApp();
    const info = (await server.inject({ method: 'GET', url: '/api/v1/info', headers: { host: 'registry.test:5000' } })).json();
    expect(info).toMatchObject({ registry: 'registry.test:5000', source: 'fake', revisions: ['latest'], systems: ['x86_64-linux'], shellPackages: ['minishell'], search: true });
    expect(info.packageSet).toBe('fake:latest:{}');
  });

  it('uses the configured public host when there is one', async () => {
    const { server } = await makeApp({ web: { publicHost: 'pull.example.org' } });
    expect((await server.inject({ method: 'GET', url: '/api/v1/info' })).json().registry).toBe('pull.example.org');
  });
});

describe('package search', () => {
  it('ranks exact and prefix matches first and searches descriptions', async () => {
    const { server } = await makeApp();
    const result = (await server.inject({ method: 'GET', url: '/api/v1/packages?q=tool' })).json();
    expect(result.supported).toBe(true);
    expect(result.packages.map((pkg: { name: string }) => pkg.name)).toEqual(['tool', 'toolbox', 'extra']);
    expect(result.total).toBe(3);
    const limited = (await server.inject({ method: 'GET', url: '/api/v1/packages?q=&limit=2' })).json();
    expect(limited).toMatchObject({ total: 4 });
    expect(limited.packages).toHaveLength(2);
  });

  it('gives closure sizes, null for packages not in the store', async () => {
    const { server } = await makeApp();
    const result = (await server.inject({ method: 'GET', url: '/api/v1/package-sizes?names=tool,extra' })).json();
    expect(result.sizes).toEqual({ tool: 1200, extra: null });
  });

  it('says so when the source cannot list packages', async () => {
    Object.assign(source, { listPackages: undefined });
    const { server } = await makeApp();
    expect((await server.inject({ method: 'GET', url: '/api/v1/packages?q=x' })).json()).toMatchObject({ supported: false, packages: [] });
  });
});

describe('building from the UI', () => {
  it('starts a build with 202 and streams its progress to done', async () => {
    const app = await makeApp();
    const url = await listen(app);
    const started = await fetch(`${url}/api/v1/builds/shell/slow?tag=latest`, { method: 'POST' });
    expect(started.status).toBe(202);
    const body = (await started.json()) as { events: string; status: string };
    expect(body.status).toBe('started');
    expect(body.events).toBe('/api/v1/build-events/shell/slow?tag=latest');

    const events = readSse(`${url}${body.events}`);
    // The fake source waits in "resolving" until released: the stream shows it first.
    await events.until((event) => event.event === 'status' && (event.data as { phase: string }).phase === 'resolving');
    source.release();
    const all = await events.done;
    const phases = all.filter((event) => event.event === 'status').map((event) => (event.data as { phase: string }).phase);
    expect(phases).toContain('layers');
    expect(phases).toContain('manifest');
    const last = all[all.length - 1];
    expect(last?.event).toBe('done');
    expect((last?.data as { digest: string }).digest).toMatch(/^sha256:/);
    const layers = all.filter((event) => event.event === 'status' && (event.data as { phase: string }).phase === 'layers').map((event) => event.data as { layersDone: number; layersTotal: number; bytesWritten?: number });
    expect(layers.some((status) => status.layersDone > 0 && (status.bytesWritten ?? 0) > 0)).toBe(true);
  });

  it('streams what the source reports while it resolves, before the layers, and replays it to a late reader', async () => {
    // The source seam: a source's progress events become log lines of the build, live.
    const resolve = source.resolve.bind(source);
    Object.assign(source, {
      resolve: async (request: Parameters<typeof resolve>[0], options: Parameters<typeof resolve>[1]) => {
        options.onProgress?.({ kind: 'build', text: 'building slow-1.0' });
        options.onProgress?.({ kind: 'download', text: 'downloading libslow-2.0 from the cache' });
        return resolve(request, options);
      },
    });
    const app = await makeApp();
    const url = await listen(app);
    expect((await fetch(`${url}/api/v1/builds/shell/slow`, { method: 'POST' })).status).toBe(202);
    const events = readSse(`${url}/api/v1/build-events/shell/slow`);
    const first = await events.until((event) => event.event === 'log' && (event.data as { kind: string }).kind === 'download');
    expect(first.data).toMatchObject({ image: 'shell/slow', revision: 'latest', text: 'downloading libslow-2.0 from the cache', counts: { build: 1, download: 1 } });
    source.release();
    const all = await events.done;
    const logAt = all.findIndex((event) => event.event === 'log' && (event.data as { text: string }).text === 'building slow-1.0');
    const layersAt = all.findIndex((event) => event.event === 'status' && (event.data as { phase: string }).phase === 'layers');
    expect(logAt).toBeGreaterThanOrEqual(0);
    expect(logAt).toBeLessThan(layersAt);
    expect(all.some((event) => event.event === 'log' && (event.data as { kind: string }).kind === 'layer')).toBe(true);
    const late = await readSse(`${url}/api/v1/build-events/shell/slow`).done;
    expect(late.filter((event) => event.event === 'log').map((event) => (event.data as { text: string }).text).slice(0, 2)).toEqual(['building slow-1.0', 'downloading libslow-2.0 from the cache']);
  });

  it('answers 200 for an image that is already built, and the stream says done at once', async () => {
    const app = await makeApp();
    await app.server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest' });
    const again = await app.server.inject({ method: 'POST', url: '/api/v1/builds/shell/tool' });
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe('built');
    const url = await listen(app);
    const events = await readSse(`${url}/api/v1/build-events/shell/tool`).done;
    // The last known status (done) and the build's kept log come first, then the end of the stream.
    expect(events.filter((event) => event.event !== 'status' && event.event !== 'log').map((event) => event.event)).toEqual(['done']);
    const layerLines = events.filter((event) => event.event === 'log' && (event.data as { kind: string }).kind === 'layer');
    expect(layerLines.length).toBeGreaterThan(0);
    expect(events.findIndex((event) => event.event === 'log')).toBeLessThan(events.findIndex((event) => event.event === 'done'));
  });

  it('streams a failure with the tail of the Nix log', async () => {
    const app = await makeApp();
    const url = await listen(app);
    await fetch(`${url}/api/v1/builds/broken`, { method: 'POST' });
    const events = await readSse(`${url}/api/v1/build-events/broken`).done;
    const last = events[events.length - 1];
    expect(last?.event).toBe('failed');
    expect(last?.data).toMatchObject({ log: expect.stringContaining('broken.c:1: oops') });
    const builds = (await app.server.inject({ method: 'GET', url: '/api/v1/builds' })).json().builds as Array<{ phase: string; log?: string; durationMs?: number }>;
    expect(builds[0]).toMatchObject({ phase: 'failed', log: expect.stringContaining('oops') });
    expect(typeof builds[0]?.durationMs).toBe('number');
  });

  it('says idle for an image nobody builds', async () => {
    const app = await makeApp();
    const url = await listen(app);
    const events = await readSse(`${url}/api/v1/build-events/shell/extra`).done;
    expect(events.map((event) => event.event)).toEqual(['idle']);
  });

  it('refuses invalid names with the registry error envelope', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'POST', url: '/api/v1/builds/Not..Valid' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].code).toBe('NAME_INVALID');
    expect((await server.inject({ method: 'GET', url: '/api/v1/images/shell/tool?tag=no:pe' })).json().errors[0].code).toBe('TAG_INVALID');
  });
});

describe('GET /api/v1/images/<name>', () => {
  it('is not built before a build', async () => {
    const { server } = await makeApp();
    const view = (await server.inject({ method: 'GET', url: '/api/v1/images/shell/tool' })).json();
    expect(view).toMatchObject({ image: 'shell/tool', tag: 'latest', built: false, platforms: [], packages: ['minishell', 'tool'] });
  });

  it('shows layers with their store paths, manifest, config and the images sharing each layer', async () => {
    const { server } = await makeApp();
    await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    await server.inject({ method: 'GET', url: '/v2/extra/manifests/latest' });
    const view = (await server.inject({ method: 'GET', url: '/api/v1/images/tool' })).json();
    expect(view.built).toBe(true);
    const platform = view.platforms[0];
    expect(platform.system).toBe('x86_64-linux');
    expect(platform.manifest.body.layers).toHaveLength(platform.layers.length);
    expect(platform.config.body.rootfs.diff_ids).toHaveLength(platform.layers.length);
    const libLayer = platform.layers.find((layer: { storePaths: string[] }) => layer.storePaths.includes(STORE.lib));
    expect(libLayer).toMatchObject({ kind: 'store', sharedWith: ['extra:latest'] });
    const toolLayer = platform.layers.find((layer: { storePaths: string[] }) => layer.storePaths.includes(STORE.tool));
    expect(toolLayer.sharedWith).toEqual([]);
    expect(platform.layers[platform.layers.length - 1]).toMatchObject({ kind: 'top', storePaths: [] });
    expect(platform.totalSize).toBe(platform.layers.reduce((total: number, layer: { size: number }) => total + layer.size, 0));
    const images = (await server.inject({ method: 'GET', url: '/api/v1/images' })).json().images;
    expect(images).toEqual(['extra:latest', 'tool:latest']);
  });
});

describe('shutting down', () => {
  it('ends open event streams instead of waiting for their builds', async () => {
    const app = await makeApp();
    const url = await listen(app);
    await fetch(`${url}/api/v1/builds/slow`, { method: 'POST' });
    const events = readSse(`${url}/api/v1/build-events/slow`);
    await events.until((event) => event.event === 'status');
    const closed = app.server.close();
    // The stream ends while the build still waits in "resolving": only status events (no done,
    // failed or idle), and the server closes without the build being released.
    const all = await events.done;
    await closed;
    expect(new Set(all.map((event) => event.event))).toEqual(new Set(['status']));
    expect(all.filter((event) => event.event === 'status').map((event) => (event.data as { phase: string }).phase)).toEqual(['resolving']);
    source.release();
  });
});

describe('the list of built images', () => {
  it('is sorted and paged: at most MAX_IMAGES entries, next naming where the next page starts', async () => {
    const metadata = new MemoryMetadataStore();
    const app = await buildApp(
      parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-web-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] } }),
      { source, blobs: new MemoryBlobStore(), metadata, logger: pino({ level: 'silent' }) },
    );
    apps.push(app);
    // What a stream of pulls of new package lists leaves: one entry each.
    const built = Array.from({ length: MAX_IMAGES + 5 }, (_, i) => `tool${String(i).padStart(5, '0')}:latest`).reverse();
    for (const image of built) await metadata.addToSet(BuiltImageKeys.builtImages, image);
    const page = async (last?: string) => (await app.server.inject({ method: 'GET', url: `/api/v1/images${last === undefined ? '' : `?last=${encodeURIComponent(last)}`}` })).json() as { images: string[]; next: string | null };
    const first = await page();
    expect(first.images).toHaveLength(MAX_IMAGES);
    expect(first.images).toEqual([...built].sort().slice(0, MAX_IMAGES));
    expect(first.next).toBe(first.images[MAX_IMAGES - 1]);
    const second = await page(first.next ?? undefined);
    expect(second).toEqual({ images: [...built].sort().slice(MAX_IMAGES), next: null });
  });
});
