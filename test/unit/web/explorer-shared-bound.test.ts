import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { BuiltImageKeys } from '../../../src/storage/metadata-keys.js';
import { MAX_SHARED_WITH } from '../../../src/web/image-explorer.js';
import { FakePackageSource } from '../../support/fake-source.js';

/**
 * The explorer named, for each layer, every other image using it: for a layer every image holds
 * that is every image ever built (one per package list anyone pulled), each a permission check,
 * in every answer of `/api/v1/images/<name>`.
 */
describe('the images sharing a layer', () => {
  it('are named up to MAX_SHARED_WITH, first by name', async () => {
    const metadata = new MemoryMetadataStore();
    const config = parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-explorer-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] } });
    const app = await buildApp(config, { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata, logger: pino({ level: 'silent' }) });
    try {
      expect((await app.server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' })).statusCode).toBe(200);
      const layers = () => app.server.inject({ method: 'GET', url: '/api/v1/images/tool' }).then((response) => (response.json() as { platforms: Array<{ layers: Array<{ digest: string; sharedWith: string[] }> }> }).platforms[0]?.layers ?? []);
      const bottom = (await layers())[0]?.digest ?? '';
      const others = Array.from({ length: 3 * MAX_SHARED_WITH }, (_, i) => `tool/x${String(i).padStart(4, '0')}:latest`).reverse();
      for (const other of others) await metadata.addToSet(BuiltImageKeys.layerImages(bottom), other);
      const shared = (await layers())[0]?.sharedWith ?? [];
      expect(shared).toEqual([...others].sort().slice(0, MAX_SHARED_WITH));
    } finally {
      await app.server.close();
    }
  });
});
