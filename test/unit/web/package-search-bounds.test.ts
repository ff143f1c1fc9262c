import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { MAX_QUERY_LENGTH, MAX_QUERY_WORDS } from '../../../src/web/package-search.js';
import { FakePackageSource } from '../../support/fake-source.js';

/**
 * The package search looks for every word of the query in every package's name and description
 * (63,000 packages with Debian) on the event loop: `?q=` with 3,000 words held the registry for
 * about 9 s, for anyone who may pull. A query is bounded in words and length.
 */
describe('package search queries', () => {
  let app: App;
  let descriptionReads = 0;
  beforeAll(async () => {
    const source = await FakePackageSource.create();
    const listing = Array.from({ length: 100 }, (_, i) => ({
      name: `pkg${i}`,
      get description(): string {
        descriptionReads += 1;
        return 'a package every search finds';
      },
    }));
    Object.assign(source, { listPackages: async () => listing });
    const config = parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-search-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] } });
    app = await buildApp(config, { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await app?.server.close();
  });
  const search = (q: string) => app.server.inject({ method: 'GET', url: `/api/v1/packages?q=${encodeURIComponent(q)}` });

  it('refuses more words or characters than a search holds with 400, reading no package', async () => {
    const words = Array.from({ length: MAX_QUERY_WORDS + 1 }, (_, i) => `w${i}`).join(' ');
    const long = 'e '.repeat(MAX_QUERY_LENGTH);
    descriptionReads = 0;
    for (const q of [words, long, 'e '.repeat(3000)]) {
      const response = await search(q);
      expect(response.statusCode, q.slice(0, 20)).toBe(400);
      expect((response.json() as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNSUPPORTED');
    }
    expect(descriptionReads).toBe(0);
    expect((await search(Array.from({ length: MAX_QUERY_WORDS }, () => 'package').join(' '))).statusCode).toBe(200);
  });
});
