import type { BlobStore } from '../storage/types.js';
import { putBlob } from '../storage/blob-io.js';
import { LruMap } from '../cache/lru-map.js';
import { imageIndexJson, type Platform } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import { platformOfSystem } from './platform.js';
import type { ImageRecord, IndexRecord } from './records.js';
import { recordingEpoch } from './image-expiry.js';
import type { BuiltImages } from './built-images.js';

/** One system's image, as the index lists it. */
export interface SystemImage {
  readonly system: string;
  readonly image: ImageRecord;
}

/**
 * Writes the image index over several systems' images (an OCI index, and a Docker manifest
 * list when every image has a Docker manifest) and records it as what the name serves.
 */
export class IndexWriter {
  /** Index blobs this process wrote, so a pull does not rewrite them (what names serve is re-checked). */
  private readonly indexes = new LruMap<string, IndexRecord>(1_000);

  constructor(private readonly deps: { readonly blobs: BlobStore; readonly images: BuiltImages }) {}

  /** Index blobs are small and derived from the platform manifests: written, then recorded. */
  async write(canonicalName: string, results: readonly SystemImage[]): Promise<IndexRecord> {
    const indexKey = [canonicalName, recordingEpoch(), ...results.map(({ system, image: record }) => `${system}=${record.oci.digest}`)].join('\u0000');
    const known = this.indexes.get(indexKey);
    if (known) {
      await this.deps.images.recordIndex(canonicalName, known);
      return known;
    }
    const entries = (format: 'oci' | 'docker') =>
      results.map(({ system, image: record }) => {
        const ref = format === 'oci' ? record.oci : (record.docker as NonNullable<ImageRecord['docker']>);
        return { digest: ref.digest, size: ref.size, platform: platformOfSystem(system) as Platform };
      });
    const oci = await putBlob(this.deps.blobs, imageIndexJson('oci', entries('oci')));
    const allDocker = results.every((result) => result.image.docker !== null);
    const docker = allDocker ? await putBlob(this.deps.blobs, imageIndexJson('docker', entries('docker'))) : null;
    const record: IndexRecord = {
      oci: { ...oci, mediaType: MediaType.ociIndex },
      docker: docker ? { ...docker, mediaType: MediaType.dockerManifestList } : null,
      platforms: results.map(({ system, image: platformImage }) => ({ system, image: platformImage })),
    };
    await this.deps.images.recordIndex(canonicalName, record);
    this.indexes.set(indexKey, record);
    return record;
  }
}
