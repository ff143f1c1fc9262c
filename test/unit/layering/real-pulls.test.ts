import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { downloadsByNode, PullError, RealPuller, type Fetch } from '../../../bench/layering/real-pulls.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

const sha = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** An in-memory registry behind a `fetch`: images by `name:tag`, blobs by digest; it logs every URL asked. */
class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, { body: Buffer; type: string }>();
  readonly requests: string[] = [];

  blob(content: Buffer): { digest: string; size: number; compressed: Buffer } {
    const compressed = gzipSync(content);
    this.blobs.set(sha(compressed), compressed);
    return { digest: sha(compressed), size: compressed.length, compressed };
  }

  /** An image whose layers hold `contents` (uncompressed), bottom first. */
  image(name: string, tag: string, contents: readonly Buffer[], asIndex = false): void {
    const config = Buffer.from(JSON.stringify({ name, tag }));
    this.blobs.set(sha(config), config);
    const layers = contents.map((content) => {
      const { digest, size } = this.blob(content);
      return { mediaType: GZIP_LAYER, digest, size };
    });
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers }));
    this.manifests.set(`${name}:${sha(manifest)}`, { body: manifest, type: OCI_MANIFEST });
    if (!asIndex) {
      this.manifests.set(`${name}:${tag}`, { body: manifest, type: OCI_MANIFEST });
      return;
    }
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: 'sha256:' + '0'.repeat(64), size: 1, platform: { architecture: 'arm64', os: 'linux' } },
        { mediaType: OCI_MANIFEST, digest: sha(manifest), size: manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
      ],
    }));
    this.manifests.set(`${name}:${tag}`, { body: index, type: OCI_INDEX });
  }

  readonly fetch: Fetch = async (url) => {
    this.requests.push(url);
    const match = /^http:\/\/registry\.invalid\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
    if (!match) return new Response('no route', { status: 404 });
    const [, name, kind, reference] = match as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const found = this.manifests.get(`${name}:${reference}`);
      return found ? new Response(found.body, { headers: { 'content-type': found.type } }) : new Response('{}', { status: 404 });
    }
    const blob = this.blobs.get(reference);
    return blob ? new Response(blob) : new Response('{}', { status: 404 });
  };
}

const BASE = 'http://registry.invalid';
const content = (byte: number, length: number): Buffer => Buffer.alloc(length, byte);

describe('the real bench counting a node\'s downloads', () => {
  it('downloads each missing layer once per node, by digest, and counts compressed and uncompressed bytes', async () => {
    const registry = new FakeRegistry();
    const shared = content(1, 10_000);
    registry.image('shell/git', 'latest', [shared, content(2, 5_000), content(3, 300)]);
    registry.image('shell/curl', 'latest', [shared, content(4, 7_000), content(5, 200)]);
    const puller = new RealPuller(registry.fetch, BASE);

    const first = await puller.pull('n1', 'shell/git', 'latest');
    expect(first.layers.map((l) => l.downloaded)).toEqual([true, true, true]);
    expect(first.layers.map((l) => l.uncompressedBytes)).toEqual([10_000, 5_000, 300]);
    expect(first.layers.map((l) => l.bytes)).toEqual(first.layers.map((l) => l.size));
    const again = await puller.pull('n1', 'shell/git', 'latest');
    expect(again.layers.every((l) => !l.downloaded && l.bytes === 0)).toBe(true);
    expect(again.configBytes).toBe(0);
    const other = await puller.pull('n1', 'shell/curl', 'latest');
    expect(other.layers.map((l) => l.downloaded)).toEqual([false, true, true]);
    const elsewhere = await puller.pull('n2', 'shell/curl', 'latest');
    expect(elsewhere.layers.map((l) => l.downloaded)).toEqual([true, true, true]);

    // The shared bottom layer was fetched once by n1 and once by n2, never more.
    const sharedDigest = first.layers[0]!.digest;
    expect(registry.requests.filter((url) => url.endsWith(sharedDigest))).toHaveLength(2);

    const [n1, n2] = downloadsByNode(puller.records);
    const size = (record: typeof first, i: number): number => record.layers[i]!.size;
    expect(n1).toMatchObject({
      node: 'n1',
      pulls: 3,
      layersDownloaded: 5,
      layerBytes: size(first, 0) + size(first, 1) + size(first, 2) + size(other, 1) + size(other, 2),
      topLayerBytes: size(first, 2) + size(other, 2),
      uncompressedBytes: 10_000 + 5_000 + 300 + 7_000 + 200,
    });
    expect(n2).toMatchObject({ node: 'n2', pulls: 1, layersDownloaded: 3, uncompressedBytes: 17_200 });
    // Manifest bodies are counted on every pull, configs once per node.
    expect(n1!.metadataBytes).toBe(first.manifestBytes * 2 + first.configBytes + other.manifestBytes + other.configBytes);
  });

  it('follows an index to the amd64 manifest and counts both bodies', async () => {
    const registry = new FakeRegistry();
    registry.image('jq', 'bookworm', [content(7, 1_000)], true);
    const record = await new RealPuller(registry.fetch, BASE).pull('n1', 'jq', 'bookworm');
    expect(record.layers).toHaveLength(1);
    const manifests = [...registry.manifests.values()];
    expect(record.manifestBytes).toBe(manifests[0]!.body.length + manifests[1]!.body.length);
  });

  it('fails on a blob whose body does not match its digest or is cut short, and does not count it as held', async () => {
    const registry = new FakeRegistry();
    registry.image('shell/git', 'latest', [content(1, 4_000)]);
    const [digest, good] = [...registry.blobs.entries()].find(([, b]) => b[0] === 0x1f)!;
    registry.blobs.set(digest, gzipSync(content(9, 4_000)));
    const puller = new RealPuller(registry.fetch, BASE);
    await expect(puller.pull('n1', 'shell/git', 'latest')).rejects.toThrow(PullError);
    registry.blobs.set(digest, good.subarray(0, good.length - 10));
    await expect(puller.pull('n1', 'shell/git', 'latest')).rejects.toThrow(/bytes|gzip/);
    registry.blobs.set(digest, good);
    const record = await puller.pull('n1', 'shell/git', 'latest');
    expect(record.layers[0]!.downloaded).toBe(true);
  });

  it('fails on a manifest the registry refuses', async () => {
    const registry = new FakeRegistry();
    await expect(new RealPuller(registry.fetch, BASE).pull('n1', 'nothing', 'latest')).rejects.toThrow(/answered 404/);
  });
});
