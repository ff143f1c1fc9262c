import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_REVISION, makeExampleCache, type ExampleCache } from '../support/binary-cache.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';

interface Manifest {
  layers: Array<{ digest: string }>;
}

/** `source.kind: mixed`: the catalog's tags come from the binary cache, `latest` from Nix. */
describe('the catalog and Nix sources at once', () => {
  let cache: ExampleCache;
  let registry: RunningRegistry;

  beforeAll(async () => {
    cache = await makeExampleCache({ compression: 'zstd' });
    registry = await startRegistry({
      source: { kind: 'mixed', catalogs: [cache.catalogFile], binaryCache: { url: cache.url, trustedPublicKeys: [cache.publicKey] } },
    });
  }, 600_000);

  afterAll(async () => {
    await registry?.close();
    await cache?.cleanup();
  });

  const get = async (name: string, tag: string) => {
    const response = await fetch(`${registry.url}/v2/${name}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      signal: AbortSignal.timeout(240_000),
    });
    return { status: response.status, text: await response.text() };
  };

  it('serves catalog revisions without running Nix, and latest with Nix, with the same layers', async () => {
    const fromCatalog = await get('shell/cowsay', EXAMPLE_REVISION);
    expect(fromCatalog.status, fromCatalog.text).toBe(200);
    expect(registry.nixCommands).toEqual([]);
    const fromNix = await get('shell/cowsay', 'latest');
    expect(fromNix.status, fromNix.text).toBe(200);
    expect(registry.nixCommands.length).toBeGreaterThan(0);
    const layers = (text: string) => (JSON.parse(text) as Manifest).layers.map((layer) => layer.digest);
    expect(layers(fromCatalog.text)).toEqual(layers(fromNix.text));
  }, 300_000);

  it('names the tags of both sources for an unknown one', async () => {
    const unknown = await get('hello', '1999-01');
    expect(unknown.status).toBe(404);
    const detail = (JSON.parse(unknown.text) as { errors: Array<{ detail: { known: string[] } }> }).errors[0]?.detail;
    expect(detail?.known).toEqual(expect.arrayContaining(['latest', EXAMPLE_REVISION]));
  }, 60_000);
});
