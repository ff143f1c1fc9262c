import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOciLayout } from '../../../src/builder/oci-layout.js';
import type { BuiltImage } from '../../../src/builder/image-builder.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { putBlob } from '../../../src/storage/blob-io.js';
import { MediaType } from '../../../src/oci/media-types.js';

async function image(store: MemoryBlobStore, label: string): Promise<BuiltImage> {
  const layer = await putBlob(store, Buffer.from(`layer of ${label}`));
  const config = await putBlob(store, Buffer.from(JSON.stringify({ label })));
  const manifest = await putBlob(store, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { ...config, mediaType: MediaType.ociConfig }, layers: [{ ...layer, mediaType: MediaType.ociLayerGzip }] })));
  return { primary: { oci: { ...manifest, mediaType: MediaType.ociManifest }, docker: null, config, layers: [layer.digest] }, index: null, built: true };
}

describe('writeOciLayout', () => {
  it('writes oci-layout, index.json and every blob byte for byte', async () => {
    const store = new MemoryBlobStore();
    const built = await image(store, 'a');
    const dir = join(await mkdtemp(join(tmpdir(), 'stowage-layout-')), 'out');
    const result = await writeOciLayout(store, built, dir, 'v1');
    expect(result).toMatchObject({ descriptor: built.primary.oci, blobsWritten: 3 });
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ mediaType: MediaType.ociManifest, digest: built.primary.oci.digest, size: built.primary.oci.size, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
    });
    expect((await readdir(join(dir, 'blobs/sha256'))).sort()).toEqual(store.digests().map((digest) => digest.slice(7)).sort());
    expect((await writeOciLayout(store, built, dir, 'v1')).blobsWritten).toBe(0);
  });

  it('adds tags to an existing layout and replaces only the same tag', async () => {
    const store = new MemoryBlobStore();
    const dir = await mkdtemp(join(tmpdir(), 'stowage-layout-'));
    const a = await image(store, 'a');
    const b = await image(store, 'b');
    await writeOciLayout(store, a, dir, 'one');
    await writeOciLayout(store, a, dir, 'two');
    await writeOciLayout(store, b, dir, 'one');
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    expect(index.manifests.map((entry) => [entry.annotations['org.opencontainers.image.ref.name'], entry.digest])).toEqual([
      ['two', a.primary.oci.digest],
      ['one', b.primary.oci.digest],
    ]);
  });

  it('replaces a corrupt blob already in the layout', async () => {
    const store = new MemoryBlobStore();
    const built = await image(store, 'a');
    const dir = await mkdtemp(join(tmpdir(), 'stowage-layout-'));
    await writeOciLayout(store, built, dir, 'x');
    const path = join(dir, 'blobs/sha256', built.primary.config.digest.slice(7));
    await writeFile(path, 'short');
    expect((await writeOciLayout(store, built, dir, 'x')).blobsWritten).toBe(1);
    expect(await readFile(path, 'utf8')).toBe(JSON.stringify({ label: 'a' }));
  });
});
