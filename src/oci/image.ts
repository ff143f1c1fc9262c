import { MediaType, layerMediaType, type LayerCompression, type ManifestFormat } from './media-types.js';

/**
 * Image config and manifests, serialised deterministically: the same inputs always give the
 * same bytes, and so the same digests. Config and manifests are built here from plain data;
 * storing them is the caller's job.
 */

/** Fixed creation time, so that rebuilding an image never changes its config digest. */
export const FIXED_CREATED = '1970-01-01T00:00:01Z';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface ImageLayer {
  readonly digest: string;
  readonly diffId: string;
  readonly size: number;
  readonly compression: LayerCompression;
  /** Shown in the config's history: what this layer holds. */
  readonly comment: string;
}

export interface ContainerConfig {
  readonly env: readonly string[];
  readonly cmd?: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** The image config as JSON bytes (valid as both OCI and Docker image config). */
export function imageConfigJson(platform: Platform, layers: readonly ImageLayer[], config: ContainerConfig): Buffer {
  const body = {
    created: FIXED_CREATED,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: {
      Env: [...config.env],
      ...(config.cmd ? { Cmd: [...config.cmd] } : {}),
      Labels: sortedRecord(config.labels),
    },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map((layer) => ({ created: FIXED_CREATED, created_by: 'stowage', comment: layer.comment })),
  };
  return Buffer.from(JSON.stringify(body));
}

/** An image manifest as JSON bytes in the given format. */
export function imageManifestJson(
  format: ManifestFormat,
  config: { readonly digest: string; readonly size: number },
  layers: readonly ImageLayer[],
  annotations: Readonly<Record<string, string>> = {},
): Buffer {
  const layerDescriptors = layers.map((layer) => {
    const mediaType = layerMediaType(format, layer.compression);
    if (mediaType === null) throw new Error(`${format} manifests cannot describe ${layer.compression} layers`);
    return { mediaType, digest: layer.digest, size: layer.size };
  });
  const body =
    format === 'oci'
      ? {
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
          layers: layerDescriptors,
          ...(Object.keys(annotations).length > 0 ? { annotations: sortedRecord(annotations) } : {}),
        }
      : {
          schemaVersion: 2,
          mediaType: MediaType.dockerManifest,
          config: { mediaType: MediaType.dockerConfig, digest: config.digest, size: config.size },
          layers: layerDescriptors,
        };
  return Buffer.from(JSON.stringify(body));
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key] as string;
  return sorted;
}

export interface IndexEntry {
  readonly digest: string;
  readonly size: number;
  readonly platform: Platform;
}

/** An image index (OCI) or manifest list (Docker) over per-platform manifests, as JSON bytes. */
export function imageIndexJson(format: ManifestFormat, entries: readonly IndexEntry[]): Buffer {
  const manifestType = format === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest;
  const body = {
    schemaVersion: 2,
    mediaType: format === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList,
    manifests: entries.map((entry) => ({
      mediaType: manifestType,
      digest: entry.digest,
      size: entry.size,
      platform: {
        architecture: entry.platform.architecture,
        os: entry.platform.os,
        ...(entry.platform.variant ? { variant: entry.platform.variant } : {}),
      },
    })),
  };
  return Buffer.from(JSON.stringify(body));
}
