import { MediaType } from './media-types.js';
import { isValidDigest } from './digest.js';

/**
 * Structural checks of a pushed manifest against the OCI image spec (and Docker schema 2), and
 * the descriptors it references. Pure: no storage lookups.
 */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
]);

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ParsedManifest {
  readonly mediaType: string;
  readonly isIndex: boolean;
  /** Blobs an image manifest needs (config and layers). */
  readonly blobs: readonly Descriptor[];
  /** Manifests an index lists. */
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  /** `artifactType`, else the config media type, as the referrers API reports it. */
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Parse and validate manifest bytes sent with `contentType`.
 * @returns the manifest, or a reason string when it is invalid.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest | string {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body is not valid JSON';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'the body is not a JSON object';
  const manifest = json as Record<string, unknown>;
  if (manifest.schemaVersion !== 2) return 'schemaVersion must be 2';
  const declared = typeof manifest.mediaType === 'string' ? manifest.mediaType : undefined;
  const type = contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
  const mediaType = declared ?? type;
  if (mediaType === undefined || !MANIFEST_MEDIA_TYPES.has(mediaType)) {
    return `unsupported manifest media type ${JSON.stringify(mediaType ?? '')}`;
  }
  if (declared !== undefined && type !== undefined && declared !== type) {
    return `the mediaType field (${declared}) differs from the Content-Type (${type})`;
  }
  const isIndex = mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
  const subject = manifest.subject === undefined ? undefined : descriptor(manifest.subject, 'subject');
  if (typeof subject === 'string') return subject;
  const annotations = stringRecord(manifest.annotations);

  if (isIndex) {
    if (!Array.isArray(manifest.manifests)) return 'an index needs a manifests array';
    const manifests: Descriptor[] = [];
    for (const [i, item] of manifest.manifests.entries()) {
      const parsed = descriptor(item, `manifests[${i}]`);
      if (typeof parsed === 'string') return parsed;
      manifests.push(parsed);
    }
    const artifactType = typeof manifest.artifactType === 'string' ? manifest.artifactType : undefined;
    return { mediaType, isIndex, blobs: [], manifests, ...optional({ subject, artifactType, annotations }) };
  }

  const config = descriptor(manifest.config, 'config');
  if (typeof config === 'string') return config;
  if (!Array.isArray(manifest.layers)) return 'an image manifest needs a layers array';
  const blobs: Descriptor[] = [config];
  for (const [i, item] of manifest.layers.entries()) {
    const parsed = descriptor(item, `layers[${i}]`);
    if (typeof parsed === 'string') return parsed;
    blobs.push(parsed);
  }
  const artifactType = typeof manifest.artifactType === 'string' ? manifest.artifactType : config.mediaType;
  return { mediaType, isIndex, blobs, manifests: [], ...optional({ subject, artifactType, annotations }) };
}

function descriptor(value: unknown, where: string): Descriptor | string {
  if (typeof value !== 'object' || value === null) return `${where} must be a descriptor object`;
  const item = value as Record<string, unknown>;
  if (typeof item.mediaType !== 'string' || item.mediaType === '') return `${where}.mediaType must be a string`;
  if (typeof item.digest !== 'string' || !isValidDigest(item.digest)) return `${where}.digest is not a valid digest`;
  if (typeof item.size !== 'number' || !Number.isSafeInteger(item.size) || item.size < 0) return `${where}.size must be a non-negative integer`;
  const artifactType = typeof item.artifactType === 'string' ? item.artifactType : undefined;
  const annotations = stringRecord(item.annotations);
  return { mediaType: item.mediaType, digest: item.digest, size: item.size, ...optional({ artifactType, annotations }) };
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return Object.fromEntries(entries);
}

/** Drop undefined fields so records and JSON stay minimal. */
function optional<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
