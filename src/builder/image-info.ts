import type { MetadataStore } from '../storage/types.js';
import { BuiltImageKeys } from '../storage/metadata-keys.js';
import { parseRecord } from './records.js';

/**
 * What the image explorer shows about a built image beyond its manifest and config: the full
 * list of store paths in each layer (the config's history comments are abbreviated), and which
 * built images share each layer. Written by the builder after the image's blobs are committed.
 *
 * Keys (see storage/metadata-keys.ts): `image-info:<manifest digest>` (ImageInfo JSON, under
 * the OCI and the Docker manifest), `layer-images:<layer digest>` (set of `<image>:<tag>` using
 * the layer), `built-images` (set of every `<image>:<tag>` built here). Read through BuiltImages.
 */
export interface ImageInfo {
  readonly image: string;
  readonly revision: string;
  readonly system: string;
  readonly packages: readonly string[];
  readonly closurePaths: number;
  readonly layers: ReadonlyArray<ImageInfoLayer>;
  readonly builtAt: string;
}

export interface ImageInfoLayer {
  readonly digest: string;
  readonly size: number;
  /** `store`: store paths chosen by the layering; `top`: stowage's /bin, /etc, /tmp layer. */
  readonly kind: 'store' | 'top';
  readonly storePaths: readonly string[];
  /** Sum of the store paths' NAR sizes (uncompressed content), 0 for the top layer. */
  readonly narSize: number;
}

/** Record a freshly built image: its info under each manifest digest, and the layer index. */
export async function recordImageInfo(metadata: MetadataStore, manifestDigests: readonly string[], info: ImageInfo): Promise<void> {
  const json = JSON.stringify(info);
  for (const digest of manifestDigests) await metadata.set(BuiltImageKeys.info(digest), json);
  const reference = `${info.image}:${info.revision}`;
  for (const layer of new Set(info.layers.map((item) => item.digest))) await metadata.addToSet(BuiltImageKeys.layerImages(layer), reference);
  await metadata.addToSet(BuiltImageKeys.builtImages, reference);
}

export async function readImageInfo(metadata: MetadataStore, manifestDigest: string): Promise<ImageInfo | null> {
  const info = parseRecord<ImageInfo>(await metadata.get(BuiltImageKeys.info(manifestDigest)));
  return info !== null && Array.isArray(info.layers) ? info : null;
}

/** `<image>:<tag>` of every built image using the layer. */
export function imagesUsingLayer(metadata: MetadataStore, layerDigest: string): Promise<string[]> {
  return metadata.members(BuiltImageKeys.layerImages(layerDigest));
}
