import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../storage/types.js';
import { readBlob } from '../storage/blob-io.js';
import { Sha256, digestHex } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import type { BuiltImage } from './image-builder.js';
import type { ManifestRef } from './records.js';

/**
 * Writes a built image as an OCI image layout (image-spec `image-layout.md`):
 *
 *   DIR/oci-layout            {"imageLayoutVersion":"1.0.0"}
 *   DIR/index.json            one descriptor per tag, annotated `org.opencontainers.image.ref.name`
 *   DIR/blobs/sha256/<hex>    manifests, configs and layers, byte for byte as the registry serves them
 *
 * The tag points at the OCI image manifest, or at the OCI image index when the image was built
 * for several systems. Writing into an existing layout adds blobs and replaces only the
 * descriptor with the same tag, like `skopeo copy ... oci:DIR:TAG`. Every blob is re-hashed on
 * the way out and written to a temporary name first, so the layout never holds a wrong or
 * partial blob.
 */
export interface LayoutResult {
  /** What index.json names for the tag. */
  readonly descriptor: ManifestRef;
  /** Blobs copied (already present ones are not copied again). */
  readonly blobsWritten: number;
  readonly bytesWritten: number;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

export async function writeOciLayout(blobs: BlobStore, built: BuiltImage, dir: string, tag: string, signal?: AbortSignal): Promise<LayoutResult> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);

  const manifests = built.index ? built.index.platforms.map((platform) => platform.image.oci) : [built.primary.oci];
  const digests = new Set<string>(built.index ? [built.index.oci.digest] : []);
  for (const manifest of manifests) {
    digests.add(manifest.digest);
    const body = JSON.parse((await readBlob(blobs, manifest.digest, signal)).toString('utf8')) as {
      config: { digest: string };
      layers: Array<{ digest: string }>;
    };
    digests.add(body.config.digest);
    for (const layer of body.layers) digests.add(layer.digest);
  }
  let blobsWritten = 0;
  let bytesWritten = 0;
  for (const digest of digests) {
    const written = await copyBlob(blobs, digest, blobDir, signal);
    if (written !== null) {
      blobsWritten += 1;
      bytesWritten += written;
    }
  }

  const descriptor: ManifestRef = built.index ? built.index.oci : built.primary.oci;
  await updateIndex(dir, descriptor, tag);
  return { descriptor, blobsWritten, bytesWritten };
}

/** Copy one blob unless the layout has it; returns the bytes copied, or null when skipped. */
async function copyBlob(blobs: BlobStore, digest: string, blobDir: string, signal?: AbortSignal): Promise<number | null> {
  const target = join(blobDir, digestHex(digest));
  const info = await blobs.stat(digest, signal);
  if (info === null) throw new Error(`blob ${digest} of the image is missing from the blob store`);
  const existing = await stat(target).catch(() => null);
  if (existing?.size === info.size) return null;
  const temp = join(blobDir, `.tmp-${randomUUID()}`);
  const hash = new Sha256();
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(await blobs.open(digest, undefined, signal), hashing, createWriteStream(temp, { mode: 0o644 }), ...(signal ? [{ signal }] : []));
    const actual = hash.digest();
    if (actual !== digest) throw new Error(`blob ${digest} read back as ${actual}`);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return info.size;
}

async function updateIndex(dir: string, descriptor: ManifestRef, tag: string): Promise<void> {
  const path = join(dir, 'index.json');
  let manifests: Array<{ annotations?: Record<string, string> }> = [];
  try {
    const existing = JSON.parse(await readFile(path, 'utf8')) as { manifests?: unknown };
    if (Array.isArray(existing.manifests)) manifests = existing.manifests as typeof manifests;
  } catch {
    // no index yet (or an unreadable one, which is replaced)
  }
  const others = manifests.filter((entry) => entry.annotations?.[REF_NAME] !== tag);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...others, { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, annotations: { [REF_NAME]: tag } }],
  };
  const temp = `${path}.tmp-${randomUUID()}`;
  await writeFile(temp, `${JSON.stringify(index)}\n`);
  await rename(temp, path);
}
