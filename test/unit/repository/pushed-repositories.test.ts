import { describe, expect, it } from 'vitest';
import { PushedRepositories } from '../../../src/repository/pushed-repositories.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { putBlob } from '../../../src/storage/blob-io.js';
import { collectGarbage } from '../../../src/storage/gc.js';
import { ManifestReferenceUnknownError } from '../../../src/repository/errors.js';
import { BlobNotFoundError, StorageUnavailableError } from '../../../src/storage/errors.js';
import { digestOf, makeImage } from '../../conformance/client.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const HOUR = 60 * 60 * 1000;

async function pushed(clock: () => number) {
  const blobs = new MemoryBlobStore(clock);
  const metadata = new MemoryMetadataStore();
  const repos = new PushedRepositories(metadata, blobs);
  const image = makeImage('unit');
  for (const blob of [image.config, ...image.layers]) {
    await putBlob(blobs, blob);
    await repos.linkBlob('team/app', digestOf(blob));
  }
  await repos.putManifest('team/app', 'v1', image.manifest, MANIFEST);
  return { blobs, metadata, repos, image };
}

describe('PushedRepositories', () => {
  it('reads a manifest whose body the blob store cannot give as unavailable, not as missing', async () => {
    const { blobs, repos, image } = await pushed(Date.now);
    const digest = digestOf(image.manifest);
    const open = blobs.open.bind(blobs);
    blobs.open = async () => {
      throw new StorageUnavailableError('blob storage (S3) is unavailable: GetObject failed');
    };
    await expect(repos.getManifest('team/app', 'v1')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(repos.getManifest('team/app', digest)).rejects.toBeInstanceOf(StorageUnavailableError);
    // A body that is gone is a manifest that is gone.
    blobs.open = async (missing: string) => {
      throw new BlobNotFoundError(missing);
    };
    expect(await repos.getManifest('team/app', 'v1')).toBeNull();
    blobs.open = open;
    expect((await repos.getManifest('team/app', 'v1'))?.digest).toBe(digest);
  });

  it('refuses manifests naming blobs the store does not have', async () => {
    const { repos } = await pushed(Date.now);
    const other = makeImage('other');
    await expect(repos.putManifest('team/app', 'v2', other.manifest, MANIFEST)).rejects.toBeInstanceOf(ManifestReferenceUnknownError);
    expect(await repos.tags('team/app')).toEqual(['v1']);
  });

  it('refuses a manifest whose descriptor gives a blob a size that is not the blob\'s (sweep 4)', async () => {
    const { repos, image } = await pushed(Date.now);
    const layer = image.layers[0] as Buffer;
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(image.config), size: image.config.length };
    const body = (size: number) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layer), size }] }));
    await expect(repos.putManifest('team/app', 'big', body(10 ** 15), MANIFEST)).rejects.toMatchObject({ name: 'ManifestInvalidError', message: expect.stringContaining(`gives its size as ${10 ** 15} bytes; the blob has ${layer.length}`) });
    await expect(repos.putManifest('team/app', 'small', body(layer.length - 1), MANIFEST)).rejects.toMatchObject({ name: 'ManifestInvalidError' });
    expect(await repos.tags('team/app')).toEqual(['v1']);
    expect((await repos.putManifest('team/app', 'right', body(layer.length), MANIFEST)).digest).toMatch(/^sha256:/);
  });

  it('looks up each blob a manifest names once, however often it names it', async () => {
    const { blobs, metadata, repos, image } = await pushed(Date.now);
    const layer = image.layers[0] as Buffer;
    const descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layer), size: layer.length };
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(image.config), size: image.config.length };
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config, layers: Array.from({ length: 5000 }, () => descriptor) }));
    const stats: string[] = [];
    const memberships: string[] = [];
    const stat = blobs.stat.bind(blobs);
    const isMember = metadata.isMember.bind(metadata);
    blobs.stat = async (digest: string) => (stats.push(digest), stat(digest));
    metadata.isMember = async (key: string, member: string) => (memberships.push(member), isMember(key, member));
    await repos.putManifest('team/app', 'many', manifest, MANIFEST);
    expect(stats.sort()).toEqual([config.digest, descriptor.digest].sort());
    expect(memberships.sort()).toEqual([config.digest, descriptor.digest].sort());
  });

  it('lets garbage collection free a deleted manifest and its unlinked blobs', async () => {
    let now = Date.now();
    const { blobs, metadata, repos, image } = await pushed(() => now);
    const all = [image.manifest, image.config, ...image.layers].map((blob) => digestOf(blob));
    now += 2 * HOUR;
    expect((await collectGarbage(blobs, metadata, { graceMs: HOUR, dryRun: false, now: () => now })).deleted).toEqual([]);

    await repos.deleteManifest('team/app', digestOf(image.manifest));
    for (const blob of [image.config, ...image.layers]) await repos.unlinkBlob('team/app', digestOf(blob));
    await collectGarbage(blobs, metadata, { graceMs: HOUR, dryRun: false, now: () => now });
    for (const digest of all) expect(await blobs.stat(digest)).toBeNull();
  });
});
