import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { PrefixRoutingSource } from '../../../src/sources/prefix-routing-source.js';
import type { PackageSource } from '../../../src/sources/types.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function appWith(source: PackageSource, kind: 'nix' | 'routed'): Promise<App> {
  const input: ConfigInput = {
    dataDir: await mkdtemp(join(tmpdir(), 'stowage-label-')),
    source: { kind, shellPackages: ['minishell'], systems: ['x86_64-linux'] },
  };
  return buildApp(parseConfig(input), { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) });
}

/** The image config's labels of `name:latest`. */
async function labelsOf(app: App, name: string): Promise<Record<string, string>> {
  const manifest = await app.server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest`, headers: { accept: OCI_MANIFEST } });
  expect(manifest.statusCode, manifest.body).toBe(200);
  const digest = (manifest.json() as { config: { digest: string } }).config.digest;
  const config = await app.server.inject({ method: 'GET', url: `/v2/${name}/blobs/${digest}` });
  return (config.json() as { config: { Labels: Record<string, string> } }).config.Labels;
}

describe('the dev.stowage.source label', () => {
  it('names the source that built the image, whether it was asked directly or through routing', async () => {
    const plain = await appWith(await FakePackageSource.create('debian'), 'nix');
    const routing = new PrefixRoutingSource(await FakePackageSource.create('debian'), 'nix', await FakePackageSource.create('nix'));
    expect(routing.name).toBe('debian+nix/nix');
    const routed = await appWith(routing, 'routed');
    try {
      const direct = await labelsOf(plain, 'tool');
      const viaRouting = await labelsOf(routed, 'tool');
      expect(direct['dev.stowage.source']).toBe('debian');
      expect(viaRouting['dev.stowage.source']).toBe('debian');
      expect(viaRouting).toEqual(direct);
      // The prefixed universe's images name their own source.
      expect((await labelsOf(routed, 'nix/tool'))['dev.stowage.source']).toBe('nix');
    } finally {
      await plain.server.close();
      await routed.server.close();
    }
  });
});
