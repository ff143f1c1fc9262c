import type { MetadataStore } from '../storage/types.js';
import { BuiltImageKeys } from '../storage/metadata-keys.js';
import { checkMembers } from '../storage/metadata-batch.js';
import { parseImageName, type ImageNameOptions } from '../image-name/image-name.js';
import type { ImageRecord, IndexRecord } from './records.js';
import type { Descriptor } from '../oci/manifest-validation.js';
import { builtReferrers } from './sbom-artifact.js';
import { imagesUsingLayer, readImageInfo, type ImageInfo } from './image-info.js';

/**
 * What the registry and the web UI may know about built images: the read model of the
 * builder's records. They ask it, never the metadata keys, so the records' shape can change in
 * one place.
 */
export interface BuiltImageReader {
  /** The canonical name of a package-list name (any spelling). @throws InvalidImageNameError */
  canonicalName(name: string): string;
  /** Whether `digest` is a manifest (or index) built under the canonical name. */
  hasManifest(canonicalName: string, digest: string): Promise<boolean>;
  /** The tags (revisions) built under the canonical name, sorted. */
  tags(canonicalName: string): Promise<string[]>;
  /** Whether a config or layer blob belongs to an image built under the canonical name. */
  hasBlob(canonicalName: string, digest: string): Promise<boolean>;
  /** The explorer's details of a built manifest, or null. */
  info(manifestDigest: string): Promise<ImageInfo | null>;
  /** `<name>:<tag>` of every built image using the layer. */
  imagesUsingLayer(layerDigest: string): Promise<string[]>;
  /** Descriptors of the built artifacts (SBOMs) whose subject is `digest`, when `digest` is served under the name; optionally of one type. */
  referrers(canonicalName: string, digest: string, artifactType?: string): Promise<Descriptor[]>;
  /** `<name>:<tag>` of every image built here. */
  all(): Promise<string[]>;
}

/**
 * The read model, and the builder's way of recording what a name serves. Recording re-checks
 * every member instead of remembering it was written: metadata can be lost behind the
 * process's back (a Redis restart without persistence, FLUSHALL, eviction, failover), and the
 * next pull must put back what is missing. A pull that finds everything in place writes nothing.
 */
export class BuiltImages implements BuiltImageReader {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly imageNames: ImageNameOptions,
  ) {}

  canonicalName(name: string): string {
    // The revision plays no part in the name; any valid one will do.
    return parseImageName(name, 'latest', this.imageNames).canonicalName;
  }

  hasManifest(canonicalName: string, digest: string): Promise<boolean> {
    return this.metadata.isMember(BuiltImageKeys.manifests(canonicalName), digest);
  }

  tags(canonicalName: string): Promise<string[]> {
    return this.metadata.members(BuiltImageKeys.tags(canonicalName));
  }

  hasBlob(canonicalName: string, digest: string): Promise<boolean> {
    return this.metadata.isMember(BuiltImageKeys.blobs(canonicalName), digest);
  }

  info(manifestDigest: string): Promise<ImageInfo | null> {
    return readImageInfo(this.metadata, manifestDigest);
  }

  async referrers(canonicalName: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    return (await this.hasManifest(canonicalName, digest)) ? builtReferrers(this.metadata, digest, artifactType) : [];
  }

  imagesUsingLayer(layerDigest: string): Promise<string[]> {
    return imagesUsingLayer(this.metadata, layerDigest);
  }

  all(): Promise<string[]> {
    return this.metadata.members(BuiltImageKeys.builtImages);
  }

  /**
   * Make sure the name serves one system's image at `revision`: its tag, manifests, config and
   * layers, and `extra` members (its SBOM artifacts). @returns how many members were missing and
   * written again.
   */
  async recordImage(canonicalName: string, revision: string, record: ImageRecord, extra: ReadonlyArray<readonly [string, string]> = []): Promise<number> {
    const manifests = [record.oci, record.docker].flatMap((ref) => (ref ? [ref.digest] : []));
    return this.ensure([
      ...manifests.map((digest) => [BuiltImageKeys.manifests(canonicalName), digest] as const),
      ...extra,
      ...[record.config.digest, ...record.layers].map((digest) => [BuiltImageKeys.blobs(canonicalName), digest] as const),
      [BuiltImageKeys.builtImages, `${canonicalName}:${revision}`] as const,
      // The tag last: a tag is listed only once what it serves is recorded.
      [BuiltImageKeys.tags(canonicalName), revision] as const,
    ]);
  }

  /** Make sure the name serves the index (OCI and Docker). @returns members written again. */
  recordIndex(canonicalName: string, index: IndexRecord): Promise<number> {
    return this.ensure([index.oci, index.docker].flatMap((ref) => (ref ? [[BuiltImageKeys.manifests(canonicalName), ref.digest] as const] : [])));
  }

  /**
   * Check every member in one batch (one round trip, one Redis pipeline), add the missing ones.
   * Not cached, on purpose: this check is what heals metadata lost behind the process's back
   * (issue 11: every pull re-checks what it serves), and it is the only metadata round trip
   * a warm pull by tag makes in the builder.
   */
  private async ensure(members: ReadonlyArray<readonly [string, string]>): Promise<number> {
    const present = await checkMembers(this.metadata, members);
    const missing = members.filter((_entry, i) => !present[i]);
    for (const [key, member] of missing) await this.metadata.addToSet(key, member);
    return missing.length;
  }
}
