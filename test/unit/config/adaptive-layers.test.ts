import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { createLayerer } from '../../../src/compose-layering.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import type { ClosureGraph, ImageRequest, ResolveOptions } from '../../../src/sources/types.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource, STORE } from '../../support/fake-source.js';

/**
 * `image.adaptiveLayers` picks Stowage's adaptive budget in the composition root: the fewest
 * layers whose estimated cost is within 1% of the layering at `maxLayers`.
 */
describe('image.adaptiveLayers', () => {
  it('is off by default, read from files and STOWAGE_ADAPTIVE_LAYERS, and must be a boolean', async () => {
    expect(parseConfig({}).image.adaptiveLayers).toBe(false);
    expect(parseConfig({ image: { adaptiveLayers: true } }).image.adaptiveLayers).toBe(true);
    expect((await loadConfig({ env: { STOWAGE_ADAPTIVE_LAYERS: 'true' } })).image.adaptiveLayers).toBe(true);
    expect(() => parseConfig({ image: { adaptiveLayers: 'yes' as unknown as boolean } })).toThrow(/image\.adaptiveLayers/);
  });

  it('selects the adaptive layerer when on and plain Stowage when off', () => {
    expect(createLayerer(parseConfig({ image: { adaptiveLayers: true } })).name).toBe('stowage-adaptive');
    expect(createLayerer(parseConfig({})).name).toBe('stowage');
  });
});

describe('an image built with image.adaptiveLayers', () => {
  let source: FakePackageSource;
  beforeEach(async () => {
    source = await FakePackageSource.create();
    // One large path, so the three small ones can share a layer for well under 1% more bytes.
    const resolve = source.resolve.bind(source);
    source.resolve = async (request: ImageRequest, options: ResolveOptions): Promise<ClosureGraph> => {
      const closure = await resolve(request, options);
      return { ...closure, paths: closure.paths.map((info) => (info.path === STORE.extra ? { ...info, narSize: 1_000_000 } : info)) };
    };
  });

  const layerCount = async (adaptiveLayers: boolean): Promise<number> => {
    const { server } = await buildApp(
      parseConfig({
        dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')),
        image: { maxLayers: 10, adaptiveLayers },
        source: { kind: 'nix', shellPackages: ['minishell'] },
      }),
      { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
    );
    const response = await server.inject({
      method: 'GET',
      url: '/v2/shell/tool/extra/manifests/latest',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(response.statusCode).toBe(200);
    await server.close();
    return (response.json() as { layers: unknown[] }).layers.length;
  };

  it('gets fewer layers than the same closure at the full budget', async () => {
    // Four store paths: one layer each plus the top layer at the full budget; adaptive keeps
    // the large path alone and lets the three small ones share a layer.
    expect(await layerCount(false)).toBe(5);
    expect(await layerCount(true)).toBe(3);
  });
});
