import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { serialiseCoOccurrence } from '../../../src/builder/co-occurrence-file.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { coOccurrenceOf } from '../../../src/layering/index.js';
import { PackageNotFoundError } from '../../../src/sources/errors.js';
import { LocalStoreReader } from '../../../src/sources/local-store-reader.js';
import type { ClosureGraph, ImageRequest, PackageSource } from '../../../src/sources/types.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import type { MetadataStore } from '../../../src/storage/types.js';

const DAY = 24 * 60 * 60 * 1000;
const NAMES = ['alpha', 'beta', ...Array.from({ length: 14 }, (_, k) => `tool${k}`)];
const pathOf = (name: string): string => `/nix/store/${String(NAMES.indexOf(name)).padStart(32, '0')}-${name}-1.0`;

/** Independent packages (no references between them), one small file each. */
async function manyPackageSource(): Promise<PackageSource> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-cooc-store-'));
  for (const name of NAMES) {
    const base = join(dir, pathOf(name).slice('/nix/store/'.length));
    await mkdir(join(base, 'share'), { recursive: true });
    await writeFile(join(base, 'share', name), `${name}\n`);
  }
  return {
    name: 'many',
    reader: new LocalStoreReader(dir),
    cacheKey: async (request: ImageRequest) => `many:${request.revision}`,
    resolve: async (request: ImageRequest): Promise<ClosureGraph> => {
      const missing = request.packages.filter((name) => !NAMES.includes(name));
      if (missing.length > 0) throw new PackageNotFoundError(missing);
      const paths = request.packages.map((name) => ({ path: pathOf(name), narSize: 1000, references: [] }));
      const packageRoots = Object.fromEntries(request.packages.map((name) => [name, [pathOf(name)]]));
      return { paths: [...paths].sort((a, b) => (a.path < b.path ? -1 : 1)), roots: paths.map((info) => info.path), packageRoots };
    },
  };
}

describe('image.coOccurrence', () => {
  it('is off by default, read from files and the environment, and validated', async () => {
    expect(parseConfig({}).image.coOccurrence).toEqual({ enabled: false, periodMs: DAY, window: 2000, file: '' });
    const env = { STOWAGE_CO_OCCURRENCE: 'true', STOWAGE_CO_OCCURRENCE_PERIOD_MS: '3600000', STOWAGE_CO_OCCURRENCE_WINDOW: '500', STOWAGE_CO_OCCURRENCE_FILE: 't.json' };
    expect((await loadConfig({ env })).image.coOccurrence).toEqual({ enabled: true, periodMs: 3_600_000, window: 500, file: 't.json' });
    expect(() => parseConfig({ image: { coOccurrence: { periodMs: 10 } } })).toThrow(/image\.coOccurrence\.periodMs/);
    expect(() => parseConfig({ image: { coOccurrence: { window: 0 } } })).toThrow(/image\.coOccurrence\.window/);
    expect(() => parseConfig({ image: { coOccurrence: { typo: true } as never } })).toThrow(/image\.coOccurrence/);
    expect(() => parseConfig({ image: { coOccurrence: { file: 't.json' } } })).toThrow(/image\.coOccurrence\.file: a table file needs enabled: true/);
  });

  it('refuses to start with an invalid table file, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-cooc-'));
    const file = join(dir, 'table.json');
    await writeFile(file, '{"format":"nope"}');
    const config = parseConfig({ dataDir: dir, image: { coOccurrence: { enabled: true, file } }, source: { kind: 'nix' } });
    await expect(buildApp(config, { source: await manyPackageSource(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) })).rejects.toThrow(file);
  });
});

describe('images layered with the recorded co-occurrence table', () => {
  const start = async (metadata: MetadataStore, clock: { now: number }, source: PackageSource, coOccurrence: Record<string, unknown> = { enabled: true }) => {
    const config = parseConfig({
      dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')),
      image: { maxLayers: 20, coOccurrence },
      source: { kind: 'nix', shellPackages: ['alpha'] },
    });
    return (await buildApp(config, { source, blobs: new MemoryBlobStore(), metadata, logger: pino({ level: 'silent' }), now: () => clock.now })).server;
  };
  type Server = Awaited<ReturnType<typeof start>>;
  const layersOf = async (server: Server, packages: readonly string[]): Promise<string[][]> => {
    const name = packages.join('/');
    const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
    const manifest = await server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest`, headers: accept });
    expect(manifest.statusCode).toBe(200);
    const { config } = manifest.json() as { config: { digest: string } };
    const blob = await server.inject({ method: 'GET', url: `/v2/${name}/blobs/${config.digest}` });
    const { history } = blob.json() as { history: Array<{ comment?: string }> };
    // Store path layers (their comments name the paths' basenames); the top layer last.
    return history.slice(0, -1).map((entry) => (entry.comment ?? '').split(' ').map((base) => base.split('-')[1] ?? base).sort());
  };

  it('records built closures and, once the table is refreshed, puts packages always built together in one layer', async () => {
    const metadata = new MemoryMetadataStore();
    const clock = { now: 100 * DAY };
    const source = await manyPackageSource();
    let server = await start(metadata, clock, source);
    // Before any table: one layer per path.
    expect(await layersOf(server, ['alpha', 'beta', 'tool13'])).toEqual([['alpha'], ['beta'], ['tool13']]);
    // Twelve images, each with alpha and beta beside one tool of its own.
    for (let k = 0; k < 12; k++) await layersOf(server, ['alpha', 'beta', `tool${k}`]);
    expect((await metadata.members('cooc-images')).length).toBe(13);
    expect(await metadata.get('cooc-table')).not.toBeNull();
    await server.close();

    // Within the period a restart keeps the (empty) table it found: still one layer per path.
    clock.now += DAY / 2;
    server = await start(metadata, clock, source);
    expect(await layersOf(server, ['alpha', 'beta', 'tool12'])).toEqual([['alpha'], ['beta'], ['tool12']]);
    await server.close();

    // After the period the table is recomputed from the window: alpha and beta share a layer.
    clock.now += DAY;
    server = await start(metadata, clock, source);
    const layered = await layersOf(server, ['alpha', 'beta', 'tool13']);
    expect(layered).toEqual([['alpha', 'beta'], ['tool13']]);
    // The same closure under the same table: the same layers (and the cached image).
    expect(await layersOf(server, ['alpha', 'beta', 'tool13'])).toEqual(layered);
    await server.close();
  });

  it('layers with an operator-supplied table file, recording nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-cooc-'));
    const file = join(dir, 'table.json');
    const past = Array.from({ length: 12 }, (_, k) => ['alpha', 'beta', `tool${k}`].map(pathOf));
    await writeFile(file, serialiseCoOccurrence(coOccurrenceOf(past)));
    const metadata = new MemoryMetadataStore();
    const server = await start(metadata, { now: 0 }, await manyPackageSource(), { enabled: true, file });
    expect(await layersOf(server, ['alpha', 'beta', 'tool13'])).toEqual([['alpha', 'beta'], ['tool13']]);
    expect(await metadata.members('cooc-images')).toEqual([]);
    await server.close();
  });

  it('gives two independent builds of one closure under one table the same layer digests', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-cooc-'));
    const file = join(dir, 'table.json');
    await writeFile(file, serialiseCoOccurrence(coOccurrenceOf(Array.from({ length: 12 }, (_, k) => ['alpha', 'beta', `tool${k}`].map(pathOf)))));
    const layerDigests = async (): Promise<string[]> => {
      const server = await start(new MemoryMetadataStore(), { now: 0 }, await manyPackageSource(), { enabled: true, file });
      const response = await server.inject({ method: 'GET', url: '/v2/alpha/beta/tool13/manifests/latest', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      await server.close();
      return (response.json() as { layers: Array<{ digest: string }> }).layers.map((layer) => layer.digest);
    };
    const first = await layerDigests();
    expect(first).toHaveLength(3);
    expect(await layerDigests()).toEqual(first);
  });
});
