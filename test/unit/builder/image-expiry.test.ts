import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { collectGarbage } from '../../../src/storage/gc.js';
import { PullRecorder, RECORD_INTERVAL_MS, expireImageRecords } from '../../../src/builder/image-expiry.js';
import { BuiltImageKeys } from '../../../src/storage/metadata-keys.js';
import type { MetadataStore } from '../../../src/storage/types.js';
import { FakePackageSource } from '../../support/fake-source.js';

const DAY = 24 * 60 * 60 * 1000;
const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.server.close()));
});

async function makeApp(now: () => number = Date.now): Promise<{ app: App; blobs: MemoryBlobStore; metadata: MemoryMetadataStore }> {
  const blobs = new MemoryBlobStore();
  const metadata = new MemoryMetadataStore();
  const app = await buildApp(parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-expiry-')), source: { kind: 'nix', shellPackages: ['minishell'] } }), {
    source: await FakePackageSource.create(),
    blobs,
    metadata,
    logger: pino({ level: 'silent' }),
    now,
  });
  apps.push(app);
  return { app, blobs, metadata };
}

/** A pull's manifest and the blobs it names. */
async function pull(app: App, name: string): Promise<{ digest: string; blobs: string[] }> {
  const response = await app.server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest`, headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  expect(response.statusCode).toBe(200);
  const manifest = response.json() as { config: { digest: string }; layers: Array<{ digest: string }> };
  return { digest: response.headers['docker-content-digest'] as string, blobs: [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)] };
}

/** Writes counted, to see how often a pull time is recorded. */
function countingSets(metadata: MetadataStore): { count: () => number } {
  let sets = 0;
  const set = metadata.set.bind(metadata);
  metadata.set = async (key, value) => {
    if (key.startsWith('pulled:')) sets += 1;
    return set(key, value);
  };
  return { count: () => sets };
}

describe('pull times', () => {
  it('are written at most once per name per interval, whatever the pull rate', async () => {
    const metadata = new MemoryMetadataStore();
    const writes = countingSets(metadata);
    let now = 1_000_000;
    const recorder = new PullRecorder(metadata, () => now);
    for (let i = 0; i < 50; i += 1) await recorder.record('tool');
    await recorder.record('extra');
    expect(writes.count()).toBe(2);
    now += RECORD_INTERVAL_MS - 1;
    await recorder.record('tool');
    expect(writes.count()).toBe(2);
    now += 1;
    await recorder.record('tool');
    expect(writes.count()).toBe(3);
    expect(await metadata.get(BuiltImageKeys.pulled('tool'))).toBe(String(now));
  });
});

describe('image record expiry', () => {
  it('forgets images not pulled for the ttl, so gc deletes their own blobs and keeps shared ones', async () => {
    // The registry's clock too: what a pull verified is trusted for a second (VerifiedPulls),
    // and gc can only forget names not pulled for hours (gc.imageRecordTtlMs is at least 2 h).
    let clock = Date.now();
    const { app, blobs, metadata } = await makeApp(() => clock);
    const tool = await pull(app, 'tool');
    const extra = await pull(app, 'extra');
    const shared = tool.blobs.filter((digest) => extra.blobs.includes(digest));
    const toolOnly = tool.blobs.filter((digest) => !extra.blobs.includes(digest));
    expect(shared.length).toBeGreaterThan(0);
    expect(toolOnly.length).toBeGreaterThan(0);

    // `tool` was last pulled 31 days before "now"; `extra` just now.
    const now = Date.now() + 31 * DAY;
    await new PullRecorder(metadata, () => now - 31 * DAY).record('tool');
    await new PullRecorder(metadata, () => now).record('extra');

    const notYet = await expireImageRecords(metadata, { ttlMs: 32 * DAY, now: () => now });
    expect(notYet.expired).toEqual([]);
    const dry = await expireImageRecords(metadata, { ttlMs: 30 * DAY, now: () => now, dryRun: true });
    expect(dry.expired).toEqual(['tool']);
    expect((await collectGarbage(blobs, metadata, { graceMs: 60 * 60 * 1000, dryRun: false, now: () => now })).deleted).toEqual([]);

    clock = now;
    const report = await expireImageRecords(metadata, { ttlMs: 30 * DAY, now: () => now });
    expect(report.expired).toEqual(['tool']);
    const gc = await collectGarbage(blobs, metadata, { graceMs: 60 * 60 * 1000, dryRun: false, now: () => now });
    const deleted = gc.deleted.map((blob) => blob.digest);
    for (const digest of [...toolOnly, tool.digest]) expect(deleted).toContain(digest);
    for (const digest of [...extra.blobs, extra.digest]) expect(await blobs.stat(digest), digest).not.toBeNull();
    expect((await app.server.inject({ method: 'GET', url: `/v2/tool/manifests/${tool.digest}` })).statusCode).toBe(404);

    // A later pull builds it again, and everything it names is served once more.
    const again = await pull(app, 'tool');
    expect(again.digest).toBe(tool.digest);
    expect((await app.server.inject({ method: 'GET', url: `/v2/tool/manifests/${tool.digest}` })).statusCode).toBe(200);
    for (const digest of again.blobs) expect((await app.server.inject({ method: 'GET', url: `/v2/tool/blobs/${digest}` })).statusCode).toBe(200);
  });

  it('starts the clock of images built before pulls were recorded, and a ttl of 0 keeps everything', async () => {
    const { app, metadata } = await makeApp();
    await pull(app, 'tool');
    await metadata.delete(BuiltImageKeys.pulled('tool'));
    const now = Date.now() + 365 * DAY;
    expect(await expireImageRecords(metadata, { ttlMs: 0, now: () => now })).toEqual({ expired: [], started: 0 });
    expect(await expireImageRecords(metadata, { ttlMs: DAY, now: () => now })).toEqual({ expired: [], started: 1 });
    expect(await metadata.get(BuiltImageKeys.pulled('tool'))).toBe(String(now));
    expect((await expireImageRecords(metadata, { ttlMs: DAY, now: () => now + DAY })).expired).toEqual(['tool']);
  });
});
