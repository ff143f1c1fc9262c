import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { collectGarbage, GarbageCollectionUnsupportedError } from '../../../src/storage/gc.js';
import { putBlob } from '../../../src/storage/blob-io.js';
import type { BlobStore, BlobWriter } from '../../../src/storage/types.js';
import { FakePackageSource } from '../../support/fake-source.js';

const HOUR = 60 * 60 * 1000;
let source: FakePackageSource;
/** Real time plus an offset tests move forward, so commit times still advance. */
let offset: number;
const clock = (): number => Date.now() + offset;
let blobs: MemoryBlobStore;
let metadata: MemoryMetadataStore;
let app: App;

beforeEach(async () => {
  source = await FakePackageSource.create();
  offset = 0;
  blobs = new MemoryBlobStore(clock);
  metadata = new MemoryMetadataStore();
  app = await buildApp(parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-gc-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] } }), {
    source,
    blobs,
    metadata,
    logger: pino({ level: 'silent' }),
  });
});

afterEach(async () => {
  await app.server.close();
});

async function pull(name: string): Promise<string[]> {
  const manifest = await app.server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest` });
  expect(manifest.statusCode).toBe(200);
  const body = manifest.json() as { config: { digest: string }; layers: Array<{ digest: string }> };
  const digests = [manifest.headers['docker-content-digest'] as string, body.config.digest, ...body.layers.map((layer) => layer.digest)];
  for (const digest of digests.slice(1)) expect((await app.server.inject({ method: 'GET', url: `/v2/${name}/blobs/${digest}` })).statusCode).toBe(200);
  return digests;
}

const gc = (options: { graceMs?: number; dryRun?: boolean } = {}) => collectGarbage(blobs, metadata, { graceMs: HOUR, dryRun: false, now: clock, ...options });

describe('collectGarbage', () => {
  it('deletes old unreferenced blobs and keeps everything images, layers and tags reference', async () => {
    await pull('shell/tool');
    await pull('extra');
    const before = blobs.digests();
    const orphan = await putBlob(blobs, Buffer.from('a layer nobody recorded'));
    offset += 2 * HOUR;
    const report = await gc();
    expect(report.deleted).toEqual([orphan]);
    expect(report.freedBytes).toBe(orphan.size);
    expect(report.referenced).toBe(before.length);
    expect(blobs.digests()).toEqual(before);
    // Still served whole, and found in the cache (no rebuild).
    const resolves = source.resolveCalls;
    await pull('shell/tool');
    await pull('extra');
    expect(source.resolveCalls).toBe(resolves);
  });

  it('keeps unreferenced blobs younger than the grace period', async () => {
    await putBlob(blobs, Buffer.from('just committed by a build'));
    offset += HOUR - 1000;
    const report = await gc();
    expect(report).toMatchObject({ deleted: [], young: 1 });
    expect(blobs.digests()).toHaveLength(1);
  });

  it('deletes nothing on a dry run, and reports what it would delete', async () => {
    const orphan = await putBlob(blobs, Buffer.from('orphan'));
    offset += 2 * HOUR;
    const report = await gc({ dryRun: true });
    expect(report.deleted).toEqual([orphan]);
    expect(blobs.digests()).toEqual([orphan.digest]);
  });

  it('follows references in any record: a manifest named only by a tag keeps its config and layers', async () => {
    const layer = await putBlob(blobs, Buffer.from('pushed layer'));
    const config = await putBlob(blobs, Buffer.from(JSON.stringify({ rootfs: { diff_ids: [] } })));
    const manifest = await putBlob(blobs, Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: config.digest }, layers: [{ digest: layer.digest }] })));
    await metadata.set('pushed:repo:tag:v1', JSON.stringify({ digest: manifest.digest }));
    offset += 2 * HOUR;
    expect((await gc()).deleted).toEqual([]);
    await metadata.delete('pushed:repo:tag:v1');
    expect((await gc()).deleted).toHaveLength(3);
  });

  it('never deletes the blobs of a build running beside it', async () => {
    // Commits that take a while to return: each blob sits in the store, not yet recorded,
    // exactly the window a grace period must cover.
    await app.server.close();
    app = await buildApp(parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-gc-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] } }), {
      source,
      blobs: slowCommits(blobs, 20),
      metadata,
      logger: pino({ level: 'silent' }),
    });
    const orphan = await putBlob(blobs, Buffer.from('old orphan'));
    offset += 2 * HOUR;
    const building = app.server.inject({ method: 'GET', url: '/v2/shell/extra/manifests/latest' });
    let finished = false;
    void building.then(() => (finished = true));
    const deleted: string[] = [];
    while (!finished) {
      deleted.push(...(await gc()).deleted.map((blob) => blob.digest));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect((await building).statusCode).toBe(200);
    expect(deleted).toEqual([orphan.digest]);
    const resolves = source.resolveCalls;
    await pull('shell/extra');
    expect(source.resolveCalls).toBe(resolves);
    expect((await gc()).deleted).toEqual([]);
  });

  it('refuses stores that cannot list', async () => {
    const opaque: BlobStore = { stat: blobs.stat.bind(blobs), open: blobs.open.bind(blobs), writer: blobs.writer.bind(blobs), redirectUrl: blobs.redirectUrl.bind(blobs) };
    await expect(collectGarbage(opaque, metadata, { graceMs: 0, dryRun: true })).rejects.toThrow(GarbageCollectionUnsupportedError);
  });
});

/** The same store, but every commit returns `delayMs` after the blob became visible. */
function slowCommits(inner: BlobStore, delayMs: number): BlobStore {
  return {
    stat: (digest) => inner.stat(digest),
    open: (digest, range) => inner.open(digest, range),
    redirectUrl: (digest) => inner.redirectUrl(digest),
    async writer(signal): Promise<BlobWriter> {
      const writer = await inner.writer(signal);
      return {
        stream: writer.stream,
        get size() {
          return writer.size;
        },
        commit: async (expected) => {
          const info = await writer.commit(expected);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return info;
        },
        abort: () => writer.abort(),
      };
    },
  };
}
