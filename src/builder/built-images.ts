import type { MetadataStore } from '../storage/types.js';
import { BuiltImageKeys } from '../storage/metadata-keys.js';
import { checkMembers } from '../storage/metadata-batch.js';
import { parseImageName, type ImageNameOptions } from '../image-name/image-name.js';
import type { ImageRecord, IndexRecord } from './records.js';
import type { Descriptor } from '../oci/manifest-validation.js';
import { builtReferrers } from './sbom-artifact.js';
import { imagesUsingLayer, readImageInfo, type ImageInfo } from './image-info.js';
import { VerifiedPulls, type VerifiedPullsOptions } from './verified-pulls.js';
import { BuiltNamesBackfill } from './built-names-backfill.js';

/** What a pull by tag resolved to for one system: see `BuiltImages.verifiedImage`. */
export interface PullSnapshot {
  readonly system: string;
  /**
   * Everything besides the name, tag and system that picks the image (the source's key of the
   * package set, the co-occurrence table's version): when it changes, the tag has moved.
   */
  readonly snapshot: string;
}

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
  /** Up to `limit` canonical names with a built image that sort after `after`, ascending. */
  names(after: string | undefined, limit: number): Promise<string[]>;
  /** Up to `limit` `<name>:<tag>` of images built here that sort after `after`, ascending. */
  images(after: string | undefined, limit: number): Promise<string[]>;
}

/**
 * The read model, and the builder's way of recording what a name serves. Recording re-checks
 * every member instead of remembering it was written: metadata can be lost behind the
 * process's back (a Redis restart without persistence, FLUSHALL, eviction, failover), and a
 * pull must put back what is missing. A pull that finds everything in place writes nothing.
 * What a pull by tag found complete is then trusted for a short TTL (VerifiedPulls): the
 * pulls within it check nothing, and the first one after it checks and heals again.
 */
export class BuiltImages implements BuiltImageReader {
  private readonly verified: VerifiedPulls;
  /** Lists the names of images built before `built-names` existed; `names` waits for it. */
  readonly listing: BuiltNamesBackfill;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly imageNames: ImageNameOptions,
    options: { readonly verified?: VerifiedPullsOptions } = {},
  ) {
    this.verified = new VerifiedPulls(options.verified);
    this.listing = new BuiltNamesBackfill(metadata);
  }

  canonicalName(name: string): string {
    // The revision plays no part in the name; any valid one will do.
    return parseImageName(name, 'latest', this.imageNames).canonicalName;
  }

  async hasManifest(canonicalName: string, digest: string): Promise<boolean> {
    return this.isMemberOrVouched(BuiltImageKeys.manifests(canonicalName), canonicalName, digest);
  }

  tags(canonicalName: string): Promise<string[]> {
    return this.metadata.members(BuiltImageKeys.tags(canonicalName));
  }

  async hasBlob(canonicalName: string, digest: string): Promise<boolean> {
    return this.isMemberOrVouched(BuiltImageKeys.blobs(canonicalName), canonicalName, digest);
  }

  /**
   * The image a pull by tag served for `system`, when that pull (within the TTL, at the snapshot
   * `snapshot` gives now) found or wrote every record and member it needs; nothing is asked of
   * the store, and `snapshot` is called only when there is such a pull.
   */
  async verifiedImage(canonicalName: string, revision: string, system: string, snapshot: () => Promise<string | null>): Promise<ImageRecord | undefined> {
    const key = pullKey(revision, system);
    // Nothing verified, nothing to ask the source: names served from pushes never get further.
    if (!this.verified.has(canonicalName, key)) return undefined;
    const current = await snapshot();
    return current === null ? undefined : this.verified.get(canonicalName, key, current);
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

  async names(after: string | undefined, limit: number): Promise<string[]> {
    await this.listing.ensure();
    return this.metadata.membersAfter(BuiltImageKeys.builtNames, after, limit);
  }

  images(after: string | undefined, limit: number): Promise<string[]> {
    return this.metadata.membersAfter(BuiltImageKeys.builtImages, after, limit);
  }

  /**
   * Make sure the name serves one system's image at `revision`: its tag, manifests, config and
   * layers, and `extra` members (its SBOM artifacts). With `verified` (a pull by tag whose image
   * record and blobs the caller has checked), remembers the pull as verified (`verifiedImage`).
   * @returns how many members were missing and written again.
   */
  async recordImage(canonicalName: string, revision: string, record: ImageRecord, extra: ReadonlyArray<readonly [string, string]> = [], verified?: PullSnapshot): Promise<number> {
    const manifests = [record.oci, record.docker].flatMap((ref) => (ref ? [ref.digest] : []));
    const members: Array<readonly [string, string]> = [
      ...manifests.map((digest) => [BuiltImageKeys.manifests(canonicalName), digest] as const),
      ...extra,
      ...[record.config.digest, ...record.layers].map((digest) => [BuiltImageKeys.blobs(canonicalName), digest] as const),
      [BuiltImageKeys.builtImages, `${canonicalName}:${revision}`] as const,
      [BuiltImageKeys.builtNames, canonicalName] as const,
      // The tag last: a tag is listed only once what it serves is recorded.
      [BuiltImageKeys.tags(canonicalName), revision] as const,
    ];
    const missing = await this.ensure(members);
    if (verified !== undefined) this.verified.remember(canonicalName, pullKey(revision, verified.system), verified.snapshot, record, members);
    return missing;
  }

  /** Make sure the name serves the index (OCI and Docker). @returns members written again. */
  recordIndex(canonicalName: string, index: IndexRecord): Promise<number> {
    return this.ensure([index.oci, index.docker].flatMap((ref) => (ref ? [[BuiltImageKeys.manifests(canonicalName), ref.digest] as const] : [])));
  }

  /**
   * Check every member in one batch (one round trip, one Redis pipeline), add the missing ones.
   * Not cached here: this check is what heals metadata lost behind the process's back (issue
   * 11); a pull by tag skips it only within the TTL of a verification (VerifiedPulls).
   */
  private async ensure(members: ReadonlyArray<readonly [string, string]>): Promise<number> {
    const present = await checkMembers(this.metadata, members);
    const missing = members.filter((_entry, i) => !present[i]);
    for (const [key, member] of missing) await this.metadata.addToSet(key, member);
    return missing.length;
  }

  /**
   * A member the store no longer has, but a verification within the TTL found: metadata lost
   * behind the process's back since (see VerifiedPulls). Answered as present, so a client gets
   * the blobs of the manifest it was just served; the next pull by tag writes them back.
   */
  private async isMemberOrVouched(key: string, canonicalName: string, member: string): Promise<boolean> {
    return (await this.metadata.isMember(key, member)) || this.verified.vouches(canonicalName, key, member);
  }
}

function pullKey(revision: string, system: string): string {
  return `${revision}\u0000${system}`;
}
