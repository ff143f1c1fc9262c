import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { BuiltImageKeys, PushedRepositoryKeys } from '../../../src/storage/metadata-keys.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { CountingMetadataStore } from '../../support/counting-metadata-store.js';

/**
 * How many metadata calls and round trips a warm GET of a built manifest costs (by tag and by
 * digest), counted on the store: with Redis each round trip is a wait for another process, which
 * is what made the built-by-tag GET slow while other processes load the CPUs. A pull by tag
 * within VERIFIED_TTL_MS of one that checked everything makes none (test/unit/builder/verified-pulls.test.ts);
 * the clock is moved past it here to count what a checking pull costs.
 */
let metadata: CountingMetadataStore;
let inner: MemoryMetadataStore;
let clock = 1_000_000;
const VERIFIED_TTL_MS = 1_000;
const later = (): void => void (clock += VERIFIED_TTL_MS);

async function makeApp(): Promise<App> {
  inner = new MemoryMetadataStore();
  metadata = new CountingMetadataStore(inner);
  return buildApp(
    parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'], systems: ['x86_64-linux'] } }),
    { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata, logger: pino({ level: 'silent' }), now: () => clock },
  );
}

const OCI = { accept: 'application/vnd.oci.image.manifest.v1+json' };

describe('metadata round trips of a warm built-manifest GET', () => {
  let app: App;
  beforeEach(async () => {
    app = await makeApp();
  });

  it('by tag, once the last check is older than the TTL: two round trips (is the name pushed; does it still serve the image), no writes', async () => {
    const first = await app.server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest', headers: OCI });
    expect(first.statusCode).toBe(200);
    later();
    metadata.reset();
    const warm = await app.server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest', headers: OCI });
    expect(warm.statusCode).toBe(200);
    expect(warm.body).toBe(first.body);
    // Before: 19 calls in 5 round trips (repository, image record, two SBOM records, 15 memberships).
    expect(metadata.roundTrips).toBe(2);
    expect(metadata.calls.map((call) => call.split(' ')[0])).toEqual(['get', 'areMembers']);
    expect(metadata.calls[0]).toBe('get repo:shell/tool');
  });

  it('by digest: two round trips', async () => {
    const first = await app.server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest', headers: OCI });
    const digest = String(first.headers['docker-content-digest']);
    metadata.reset();
    const warm = await app.server.inject({ method: 'GET', url: `/v2/shell/tool/manifests/${digest}`, headers: OCI });
    expect(warm.statusCode).toBe(200);
    expect(warm.body).toBe(first.body);
    expect(metadata.calls).toEqual(['get repo:shell/tool', 'isMember manifests:shell/tool']);
    expect(metadata.roundTrips).toBe(2);
  });

  it('still heals lost metadata on the next pull by tag after the TTL: sets and every record come back, as a rebuild writes them', async () => {
    const first = await app.server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest', headers: OCI });
    const digest = String(first.headers['docker-content-digest']);
    const before = new Map<string, string | null>();
    for await (const key of inner.keys()) before.set(key, await inner.get(key));
    const keys = [...before.keys()];
    for (const key of keys) await inner.delete(key); // FLUSHALL
    later(); // past what the last pull verified: nothing vouches for the lost members any more
    expect((await app.server.inject({ method: 'GET', url: `/v2/shell/tool/manifests/${digest}`, headers: OCI })).statusCode).toBe(404);

    metadata.reset();
    const again = await app.server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest', headers: OCI });
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expect(metadata.calls.some((call) => call.startsWith('set image:'))).toBe(true);
    expect((await app.server.inject({ method: 'GET', url: `/v2/shell/tool/manifests/${digest}`, headers: OCI })).statusCode).toBe(200);
    const referrers = await app.server.inject({ method: 'GET', url: `/v2/shell/tool/referrers/${digest}` });
    expect((referrers.json() as { manifests: unknown[] }).manifests).toHaveLength(1);
    const after = new Set<string>();
    for await (const key of inner.keys()) after.add(key);
    // The pull time is written at most once an hour per name (image-expiry.ts); gc starts the
    // clock of a name without one, so it is the one key not written back at once. The markers of
    // the one-time listing migrations are not a pull's to write: a restart runs them again.
    const markers: readonly string[] = [PushedRepositoryKeys.listingComplete, BuiltImageKeys.builtNamesComplete];
    expect(keys.filter((key) => !after.has(key) && !markers.includes(key))).toEqual(['pulled:shell/tool']);
    // Records derived from content come back byte for byte (image info also holds a build time).
    for (const [key, value] of before) if (/^(image|sbom|layer):/.test(key)) expect(await inner.get(key), key).toBe(value);
  });
});
