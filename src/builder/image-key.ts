import { createHash } from 'node:crypto';
import type { LayerCompression } from '../oci/media-types.js';
import type { ImageRequest } from '../sources/types.js';
import { LAYER_FORMAT_VERSION } from './layer-builder.js';
import { CO_OCCURRENCE_RULES_VERSION } from '../layering/index.js';
import type { VersionedTable } from './co-occurrence-file.js';

/** Bump when anything that shapes configs or manifests changes, so old image records are not reused. */
export const IMAGE_FORMAT_VERSION = 5; // 5: dev.stowage.source names the source that built the image, not the routing pair

/** Everything a finished image depends on: two builds with equal parts yield the same image. */
export interface ImageKeyParts {
  /** The source's key for the request (its package set's state); null for uncacheable revisions. */
  readonly sourceKey: string | null;
  /** The image's request for one system. */
  readonly request: ImageRequest;
  /** Whether the `shell` meta-package was asked for (it shapes the top layer and the default Cmd). */
  readonly shell: boolean;
  readonly compression: LayerCompression;
  /** The layerer's name: another layerer groups the closure differently. */
  readonly layerer: string;
  /** Fingerprint of the popularity data layering uses (null without one): new data may regroup layers. */
  readonly popularity: string | null;
  /** Version of the co-occurrence table layering uses (null without one): a new table may regroup layers. */
  readonly coOccurrence?: string | null;
  readonly maxLayers: number;
  /** Compression level for `compression`. */
  readonly level: number;
}

/**
 * The key a finished image (one system) is cached under. Its fields and their order are part of
 * every stored image record's key: reorder or rename one and every image is built again.
 */
export function imageKey(parts: ImageKeyParts): string {
  return sha256Json({
    v: [IMAGE_FORMAT_VERSION, LAYER_FORMAT_VERSION],
    sourceKey: parts.sourceKey,
    packages: parts.request.packages,
    system: parts.request.system,
    shell: parts.shell,
    layerer: parts.layerer,
    popularity: parts.popularity,
    // Only with a table, so images keyed before co-occurrence data existed keep their keys.
    ...(parts.coOccurrence ? { coOccurrence: parts.coOccurrence } : {}),
    maxLayers: parts.maxLayers,
    compression: parts.compression,
    level: parts.level,
  });
}

function sha256Json(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** The table's part of the image key, with the rules' version (null without a table: those images keep their keys). */
export function coOccurrenceKeyPart(table: VersionedTable | null, rules: number = CO_OCCURRENCE_RULES_VERSION): string | null {
  return table ? `${table.version}/rules-${rules}` : null;
}
