import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { collectGarbage } from '../../src/storage/gc.js';
import { stowage } from '../support/stowage-cli.js';

/**
 * `stowage gc` against a real registry's data directory while the registry runs and builds with
 * real Nix: it frees orphaned blobs and never one an image, layer record or tag references.
 */
describe('stowage gc beside a running registry', () => {
  let registry: RunningRegistry;
  const blobPath = (digest: string) => join(registry.dataDir, 'storage/blobs/sha256', digest.slice(7, 9), digest.slice(7));

  /** Put an unreferenced blob straight into the store, committed `ageMs` ago. */
  async function orphan(content: string, ageMs: number): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    await mkdir(join(blobPath(digest), '..'), { recursive: true });
    await writeFile(blobPath(digest), content);
    const when = new Date(Date.now() - ageMs);
    await utimes(blobPath(digest), when, when);
    return digest;
  }

  /** GET the manifest and every blob; returns the digests, failing on any non-200. */
  async function pullAll(name: string): Promise<string[]> {
    const manifest = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(manifest.status).toBe(200);
    const body = (await manifest.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const digests = [body.config.digest, ...body.layers.map((layer) => layer.digest)];
    for (const digest of digests) expect((await fetch(`${registry.url}/v2/${name}/blobs/${digest}`)).status, digest).toBe(200);
    return [manifest.headers.get('docker-content-digest') as string, ...digests];
  }

  beforeAll(async () => {
    registry = await startRegistry();
    await pullAll('shell/hello');
  });

  afterAll(async () => {
    await registry?.close();
  });

  it('collects in-process over and over while an image builds, deleting only old orphans', { timeout: 240_000 }, async () => {
    const old = await orphan('an old orphan', 2 * 60 * 60 * 1000);
    const building = pullAll('shell/bigdata/greeter');
    let done = false;
    void building.finally(() => (done = true)).catch(() => undefined);
    const deleted = new Set<string>();
    let runs = 0;
    while (!done || runs === 0) {
      const report = await collectGarbage(registry.app.blobs, registry.app.metadata, { graceMs: 60 * 60 * 1000, dryRun: false });
      for (const blob of report.deleted) deleted.add(blob.digest);
      runs += 1;
    }
    await building;
    expect([...deleted]).toEqual([old]);
    await pullAll('shell/hello');
  });

  it('as a separate process: a dry run deletes nothing, then old orphans go and everything referenced stays', { timeout: 240_000 }, async () => {
    const old = await orphan('another old orphan', 3 * 60 * 60 * 1000);
    const young = await orphan('a young orphan, maybe a push in progress', 60 * 1000);
    const env = { STOWAGE_DATA_DIR: registry.dataDir };
    const dry = await stowage(['gc', '--dry-run', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const dryReport = JSON.parse(dry.stdout) as { deleted: Array<{ digest: string }>; young: number; dryRun: boolean };
    expect(dryReport.dryRun).toBe(true);
    expect(dryReport.deleted.map((blob) => blob.digest)).toEqual([old]);
    expect(dryReport.young).toBe(1);

    const real = await stowage(['gc'], env);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('deleted 1 blob,');
    expect(real.stdout).toContain(old);

    const zeroGrace = await stowage(['gc', '--grace', '0', '--json'], env);
    const report = JSON.parse(zeroGrace.stdout) as { deleted: Array<{ digest: string }>; referenced: number; blobs: number };
    expect(report.deleted.map((blob) => blob.digest)).toEqual([young]);
    expect(report.referenced).toBe(report.blobs - 1);

    // Everything still served, from the cache (no new Nix evaluation).
    const commands = registry.nixCommands.length;
    await pullAll('shell/hello');
    await pullAll('shell/bigdata/greeter');
    expect(registry.nixCommands.slice(commands)).toEqual([]);
  });
});
