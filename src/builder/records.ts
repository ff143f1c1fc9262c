import type { LayerCompression } from '../oci/media-types.js';

/**
 * Records kept in the metadata store, as JSON, and the keys they live under. Records are written
 * only after the blobs they name are committed, so a record never points at a missing blob
 * (garbage collection aside: readers still check the blob exists before trusting a record).
 */

/** A built layer, found by the layer key of its content. */
export interface LayerRecord {
  readonly digest: string;
  readonly diffId: string;
  readonly size: number;
  readonly compression: LayerCompression;
}

export interface ManifestRef {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
}

/** A built image, found by its image key. */
export interface ImageRecord {
  /** The OCI manifest; always present. */
  readonly oci: ManifestRef;
  /** The Docker schema 2 manifest; null when the layers can't be described in it (zstd). */
  readonly docker: ManifestRef | null;
  readonly config: { readonly digest: string; readonly size: number };
  /** Layer digests, bottom first. */
  readonly layers: readonly string[];
}

/** A multi-platform image: an index over per-platform images. */
export interface IndexRecord {
  readonly oci: ManifestRef;
  /** The Docker manifest list; null when some platform has no Docker manifest. */
  readonly docker: ManifestRef | null;
  readonly platforms: ReadonlyArray<{ readonly system: string; readonly image: ImageRecord }>;
}

/**
 * The builder's keys, under the name its modules have always used; they are built, with every
 * other metadata key, in storage/metadata-keys.ts.
 */
export { BuiltImageKeys as MetadataKeys } from '../storage/metadata-keys.js';

/** Parse a stored record, or null when it is missing or not an object. */
export function parseRecord<T extends object>(json: string | null): T | null {
  if (json === null) return null;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as T) : null;
  } catch {
    return null;
  }
}
