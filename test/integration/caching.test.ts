import { afterEach, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { EXAMPLE_PACKAGE_SET } from '../support/registry-server.js';

interface Manifest {
  layers: Array<{ digest: string }>;
}

const OCI = 'application/vnd.oci.image.manifest.v1+json';

async function getManifest(url: string, name: string): Promise<{ digest: string; manifest: Manifest }> {
  const response = await fetch(`${url}/v2/${name}/manifests/latest`, { headers: { accept: OCI } });
  expect(response.status).toBe(200);
  return { digest: response.headers.get('docker-content-digest') ?? '', manifest: (await response.json()) as Manifest };
}

describe('layer and manifest caching with real Nix builds', () => {
  let registry: RunningRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });

  it('reuses every layer of shell/hello when an image adds the 5 MB package', async () => {
    registry = await startRegistry();
    const small = await getManifest(registry.url, 'shell/hello');
    const big = await getManifest(registry.url, 'bigdata/shell/hello');
    const bigLayers = new Set(big.manifest.layers.map((layer) => layer.digest));
    // Every store-path layer (all but the top one) is shared; the top layer lists other binaries.
    const shared = small.manifest.layers.slice(0, -1).map((layer) => layer.digest);
    expect(shared.length).toBeGreaterThan(0);
    for (const digest of shared) expect(bigLayers.has(digest)).toBe(true);
    expect(big.manifest.layers.length).toBeGreaterThan(small.manifest.layers.length);
  });

  it('serves a repeated pull, in any package order, without running Nix', async () => {
    registry = await startRegistry();
    const first = await getManifest(registry.url, 'shell/hello');
    const commandsAfterFirst = registry.nixCommands.length;
    expect(commandsAfterFirst).toBeGreaterThan(0);
    const again = await getManifest(registry.url, 'hello/shell');
    const head = await fetch(`${registry.url}/v2/shell/hello/manifests/latest`, { method: 'HEAD', headers: { accept: OCI } });
    expect(again.digest).toBe(first.digest);
    expect(head.headers.get('docker-content-digest')).toBe(first.digest);
    expect(registry.nixCommands.length).toBe(commandsAfterFirst);
  });

  it('keeps built images across a restart', async () => {
    registry = await startRegistry();
    const first = await getManifest(registry.url, 'shell/hello');
    await registry.app.server.close();

    const nixCommands: string[] = [];
    const restarted = await buildApp(
      parseConfig({ host: '127.0.0.1', port: 0, dataDir: registry.dataDir, logLevel: 'warn', source: { kind: 'nix', packageSet: EXAMPLE_PACKAGE_SET } }),
      { env: process.env, onNixCommand: (command) => nixCommands.push(command) },
    );
    try {
      const response = await restarted.server.inject({ method: 'GET', url: '/v2/shell/hello/manifests/latest', headers: { accept: OCI } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['docker-content-digest']).toBe(first.digest);
      expect(nixCommands).toEqual([]);
    } finally {
      await restarted.server.close();
    }
  });

  it('builds an image once when many clients ask for it at the same time', async () => {
    registry = await startRegistry();
    const url = registry.url;
    const results = await Promise.all(Array.from({ length: 8 }, () => getManifest(url, 'hello/jq')));
    expect(new Set(results.map((result) => result.digest)).size).toBe(1);
    expect(registry.nixCommands.filter((command) => command === 'nix-instantiate')).toHaveLength(1);
  });
});
