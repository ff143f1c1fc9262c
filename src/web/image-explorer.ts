import type { ImageBuilder } from '../builder/image-builder.js';
import type { BuildStatus } from '../builder/build-tracker.js';
import type { ParsedImageName } from '../image-name/image-name.js';
import type { ImageRecord } from '../builder/records.js';
import type { ImageInfo } from '../builder/image-info.js';
import type { BuiltImageReader } from '../builder/built-images.js';
import type { BlobStore } from '../storage/types.js';
import { readBlob } from '../storage/blob-io.js';

export interface ExplorerDeps {
  readonly builder: Pick<ImageBuilder, 'find' | 'tracker'>;
  readonly blobs: BlobStore;
  readonly images: Pick<BuiltImageReader, 'info' | 'imagesUsingLayer'>;
}

export interface LayerView {
  /** 1 = bottom layer. */
  readonly index: number;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly diffId: string | null;
  /** `store`: store paths; `top`: stowage's links and /etc; `unknown`: built before stowage kept layer details. */
  readonly kind: 'store' | 'top' | 'unknown';
  /** Full store paths when known, else empty (see `comment`). */
  readonly storePaths: readonly string[];
  /** The config's history comment: store path names, abbreviated past 12. */
  readonly comment: string;
  /** Uncompressed size of the store paths (NAR sizes), when known. */
  readonly narSize: number | null;
  /** Other built images (`name:tag`) that use this layer. */
  readonly sharedWith: readonly string[];
}

export interface PlatformView {
  readonly system: string;
  readonly manifest: { readonly digest: string; readonly mediaType: string; readonly size: number; readonly body: unknown };
  readonly dockerManifest: { readonly digest: string; readonly size: number } | null;
  readonly config: { readonly digest: string; readonly size: number; readonly body: unknown };
  readonly layers: readonly LayerView[];
  /** Sum of the compressed layer sizes: what a first pull downloads. */
  readonly totalSize: number;
  readonly closurePaths: number | null;
  readonly builtAt: string | null;
}

export interface ImageView {
  readonly image: string;
  readonly tag: string;
  readonly packages: readonly string[];
  readonly built: boolean;
  readonly platforms: readonly PlatformView[];
  /** This replica's latest build statuses of the image (one per system). */
  readonly builds: readonly BuildStatus[];
}

/**
 * Other images one layer names at most, first by name: a layer every image holds (the C
 * library) is used by every image ever built, one per package list anyone pulled, and each is
 * a permission check; the page shows the first ones.
 */
export const MAX_SHARED_WITH = 50;

/** Whether the caller may be shown another image (`name:tag`): the lists show only what it may pull. */
export type ImageVisibility = (image: string) => boolean;

/**
 * Everything the explorer page shows about one image and tag; builds nothing. The other images
 * sharing a layer are named only when `visible` lets the caller see them, as the UI's lists and
 * the catalog name only what the caller may pull.
 */
export async function describeImage(deps: ExplorerDeps, image: ParsedImageName, visible: ImageVisibility, signal?: AbortSignal): Promise<ImageView> {
  const found = await deps.builder.find(image, signal);
  const platforms: PlatformView[] = [];
  for (const { system, record } of found) platforms.push(await describePlatform(deps, image, system, record, visible, signal));
  return {
    image: image.canonicalName,
    tag: image.request.revision,
    packages: image.request.packages,
    built: platforms.length > 0,
    platforms,
    builds: deps.builder.tracker.get(image.canonicalName, image.request.revision),
  };
}

interface ManifestJson {
  readonly layers: ReadonlyArray<{ readonly digest: string; readonly size: number; readonly mediaType: string }>;
}

interface ConfigJson {
  readonly rootfs?: { readonly diff_ids?: readonly string[] };
  readonly history?: ReadonlyArray<{ readonly comment?: string }>;
}

async function describePlatform(deps: ExplorerDeps, image: ParsedImageName, system: string, record: ImageRecord, visible: ImageVisibility, signal?: AbortSignal): Promise<PlatformView> {
  const manifest = JSON.parse((await readBlob(deps.blobs, record.oci.digest, signal)).toString('utf8')) as ManifestJson;
  const config = JSON.parse((await readBlob(deps.blobs, record.config.digest, signal)).toString('utf8')) as ConfigJson;
  const info: ImageInfo | null = await deps.images.info(record.oci.digest);
  const self = `${image.canonicalName}:${image.request.revision}`;
  const layers: LayerView[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    const known = info?.layers[i]?.digest === layer.digest ? info.layers[i] : undefined;
    const users = await deps.images.imagesUsingLayer(layer.digest);
    layers.push({
      index: i + 1,
      digest: layer.digest,
      size: layer.size,
      mediaType: layer.mediaType,
      diffId: config.rootfs?.diff_ids?.[i] ?? null,
      kind: known?.kind ?? 'unknown',
      storePaths: known?.storePaths ?? [],
      comment: config.history?.[i]?.comment ?? '',
      narSize: known ? known.narSize : null,
      sharedWith: firstVisible(users, self, visible),
    });
  }
  return {
    system,
    manifest: { digest: record.oci.digest, mediaType: record.oci.mediaType, size: record.oci.size, body: manifest },
    dockerManifest: record.docker ? { digest: record.docker.digest, size: record.docker.size } : null,
    config: { digest: record.config.digest, size: record.config.size, body: config },
    layers,
    totalSize: layers.reduce((total, layer) => total + layer.size, 0),
    closurePaths: info?.closurePaths ?? null,
    builtAt: info?.builtAt ?? null,
  };
}

/** Up to MAX_SHARED_WITH of `users` but `self` that the caller may see, by name. */
function firstVisible(users: readonly string[], self: string, visible: ImageVisibility): string[] {
  const shown: string[] = [];
  for (const user of [...users].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (user === self || !visible(user)) continue;
    if (shown.push(user) === MAX_SHARED_WITH) break;
  }
  return shown;
}
