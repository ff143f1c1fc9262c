import type { BlobStore, CacheCoherence, MetadataStore } from '../storage/types.js';
import { putBlob, readBlob } from '../storage/blob-io.js';
import { isValidDigest, sha256Digest } from '../oci/digest.js';
import { parseManifest, type Descriptor } from '../oci/manifest-validation.js';
import { MediaType } from '../oci/media-types.js';
import { BlobNotFoundError, DigestMismatchError } from '../storage/errors.js';
import { PushedRepositoryKeys } from '../storage/metadata-keys.js';
import { RepositoryListingBackfill } from './listing-backfill.js';
import { ManifestRecordReads, type ManifestInfo } from './manifest-record-reads.js';
import { ManifestInvalidError, ManifestNotFoundError, ManifestReferenceUnknownError, ManifestTooLargeError } from './errors.js';

/**
 * Content pushed by clients, kept apart from images built from packages. Blobs live in the
 * shared content-addressed blob store; what belongs to which repository, tags, and referrers
 * are metadata records (their keys: storage/metadata-keys.ts, PushedRepositoryKeys).
 *
 * Records are written after the blob is committed, so a record never names missing bytes.
 */
export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Buffer;
  /** When the manifest was last pushed (ISO 8601); absent for manifests pushed before it was recorded. */
  readonly pushedAt?: string;
}

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const Keys = PushedRepositoryKeys;

export class PushedRepositories {
  /** Lists repositories pushed before the `repositories` set existed (see listing-backfill.ts). */
  readonly listing: RepositoryListingBackfill;
  /** Reads of records and tags, remembered per replica with a coherence (manifest-record-reads.ts). */
  private readonly reads: ManifestRecordReads;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
    /** Milliseconds since the epoch, for push times; injected by tests. */
    private readonly clock: () => number = Date.now,
    /** How replicas keep remembered records right; without it nothing is remembered. */
    coherence?: CacheCoherence,
  ) {
    this.listing = new RepositoryListingBackfill(metadata);
    this.reads = new ManifestRecordReads(metadata, coherence);
  }

  /** True once anything has been pushed to `name`: it is then served from storage, not built. */
  async isPushed(name: string): Promise<boolean> {
    return (await this.metadata.get(Keys.repo(name))) !== null;
  }

  /** Record that `name` holds blob `digest` (the blob must be committed). */
  async linkBlob(name: string, digest: string): Promise<void> {
    await this.metadata.addToSet(Keys.blobs(name), digest);
    await this.markPushed(name);
  }

  async hasBlob(name: string, digest: string): Promise<boolean> {
    return (await this.linkedBlobSize(name, digest)) !== null;
  }

  /** The size of a blob `name` links and storage holds, or null. */
  private async linkedBlobSize(name: string, digest: string): Promise<number | null> {
    if (!(await this.linksBlob(name, digest))) return null;
    return (await this.blobs.stat(digest))?.size ?? null;
  }

  /** Whether `name` links `digest`, without looking at storage: for a GET that opens the blob anyway. */
  linksBlob(name: string, digest: string): Promise<boolean> {
    return this.metadata.isMember(Keys.blobs(name), digest);
  }

  /** @returns false when the repository had no such blob. */
  async unlinkBlob(name: string, digest: string): Promise<boolean> {
    if (!(await this.metadata.isMember(Keys.blobs(name), digest))) return false;
    await this.metadata.removeFromSet(Keys.blobs(name), digest);
    return true;
  }

  /**
   * Validate and store a manifest under a tag or its digest.
   * @throws ManifestTooLargeError, ManifestInvalidError, ManifestReferenceUnknownError, DigestMismatchError
   */
  async putManifest(name: string, reference: string, body: Buffer, contentType: string | undefined): Promise<{ digest: string; subject?: string }> {
    if (body.length > MAX_MANIFEST_BYTES) throw new ManifestTooLargeError(MAX_MANIFEST_BYTES);
    const parsed = parseManifest(body, contentType);
    if (typeof parsed === 'string') throw new ManifestInvalidError(parsed);
    const digest = sha256Digest(body);
    if (isValidDigest(reference) && reference !== digest) throw new DigestMismatchError(reference, digest);

    // Only blobs already linked here (pushed or mounted to this repository) count: a digest
    // pushed to another repository is as unknown as one never pushed, so a manifest cannot
    // pull someone else's blob into a repository, nor tell whether it exists. Clients are not
    // hurt: a blob HEAD is scoped the same way, so they upload or mount what is missing.
    // Each digest is looked up once: a manifest may name one blob tens of thousands of times
    // within its 4 MiB, and each lookup is a metadata read and a storage stat (an S3 HEAD).
    const missing: string[] = [];
    const sizes = new Map<string, number>();
    for (const digest of new Set(parsed.blobs.map((blob) => blob.digest))) {
      const size = await this.linkedBlobSize(name, digest);
      if (size === null) missing.push(digest);
      else sizes.set(digest, size);
    }
    for (const digest of new Set(parsed.manifests.map((child) => child.digest))) if (!(await this.metadata.isMember(Keys.manifests(name), digest))) missing.push(digest);
    if (missing.length > 0) throw new ManifestReferenceUnknownError([...new Set(missing)]);
    // A descriptor's size is what clients read and check the blob against (and what the UI
    // adds up): one that is not the blob's own would be served as the registry's word.
    const wrong = parsed.blobs.find((blob) => sizes.get(blob.digest) !== blob.size);
    if (wrong !== undefined) throw new ManifestInvalidError(`the descriptor of ${wrong.digest} gives its size as ${wrong.size} bytes; the blob has ${sizes.get(wrong.digest)}`);

    await putBlob(this.blobs, body);
    const info: ManifestInfo = {
      mediaType: parsed.mediaType,
      digest,
      size: body.length,
      ...(parsed.artifactType !== undefined ? { artifactType: parsed.artifactType } : {}),
      ...(parsed.annotations !== undefined ? { annotations: parsed.annotations } : {}),
      ...(parsed.subject !== undefined ? { subject: parsed.subject.digest } : {}),
      pushedAt: new Date(this.clock()).toISOString(),
    };
    const tagged = !isValidDigest(reference);
    await writeThenForget(
      async () => {
        await this.metadata.set(Keys.info(name, digest), JSON.stringify(info));
        await this.metadata.addToSet(Keys.manifests(name), digest);
        if (parsed.subject) await this.metadata.addToSet(Keys.referrers(name, parsed.subject.digest), digest);
        if (tagged) {
          await this.metadata.set(Keys.tag(name, reference), digest);
          await this.metadata.addToSet(Keys.tags(name), reference);
        }
        await this.markPushed(name);
      },
      // Pushed again: the record (push time, media type) of the same bytes may differ. Also when
      // a write failed: it may have reached Redis, and a moved tag must never stay remembered.
      () => this.reads.forget(name, [digest], tagged ? [reference] : []),
    );
    return { digest, ...(parsed.subject ? { subject: parsed.subject.digest } : {}) };
  }

  /** A manifest by tag or digest, or null. */
  async getManifest(name: string, reference: string): Promise<StoredManifest | null> {
    const record = isValidDigest(reference) ? await this.reads.record(name, reference) : await this.reads.tagged(name, reference);
    if (record === null) return null;
    const { digest, member, info } = record;
    if (!member) return null;
    // A missing body is a missing manifest; a blob store that does not answer is not (503).
    const body = await readBlob(this.blobs, digest).catch((error: unknown) => {
      if (error instanceof BlobNotFoundError) return null;
      throw error;
    });
    if (body === null) return null;
    return { digest, mediaType: info?.mediaType ?? MediaType.ociManifest, body, ...(info?.pushedAt !== undefined ? { pushedAt: info.pushedAt } : {}) };
  }

  /** Delete a tag, or a manifest with every tag pointing at it. @throws ManifestNotFoundError */
  async deleteManifest(name: string, reference: string): Promise<void> {
    if (!isValidDigest(reference)) {
      if ((await this.metadata.get(Keys.tag(name, reference))) === null) throw new ManifestNotFoundError(name, reference);
      await writeThenForget(
        async () => {
          await this.metadata.delete(Keys.tag(name, reference));
          await this.metadata.removeFromSet(Keys.tags(name), reference);
        },
        () => this.reads.forget(name, [], [reference]),
      );
      return;
    }
    if (!(await this.metadata.isMember(Keys.manifests(name), reference))) throw new ManifestNotFoundError(name, reference);
    const removedTags: string[] = [];
    await writeThenForget(
      async () => {
        for (const tag of await this.tags(name)) {
          if ((await this.metadata.get(Keys.tag(name, tag))) === reference) {
            removedTags.push(tag);
            await this.metadata.delete(Keys.tag(name, tag));
            await this.metadata.removeFromSet(Keys.tags(name), tag);
          }
        }
        const info = await this.info(name, reference);
        if (info?.subject) await this.metadata.removeFromSet(Keys.referrers(name, info.subject), reference);
        await this.metadata.removeFromSet(Keys.manifests(name), reference);
        // Nothing may name the digest any more, so garbage collection can free the blob.
        await this.metadata.delete(Keys.info(name, reference));
      },
      // Also when a write failed partway: the membership may be gone already, and then the
      // client's retry is a 404 that changes nothing, so no later request would tell replicas.
      () => this.reads.forget(name, [reference], removedTags),
    );
  }

  /**
   * Up to `limit` names of repositories with pushed content that sort after `after`, ascending
   * (the catalog pages through them).
   */
  async names(after: string | undefined, limit: number): Promise<string[]> {
    await this.listing.ensure();
    return this.metadata.membersAfter(Keys.repositories, after, limit);
  }

  async tags(name: string): Promise<string[]> {
    return this.metadata.members(Keys.tags(name));
  }

  /** Descriptors of the manifests whose subject is `digest`, optionally of one artifact type. */
  async referrers(name: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const result: Descriptor[] = [];
    for (const referrer of await this.metadata.members(Keys.referrers(name, digest))) {
      const info = await this.info(name, referrer);
      if (!info || (artifactType !== undefined && info.artifactType !== artifactType)) continue;
      const { subject: _subject, pushedAt: _pushedAt, ...descriptor } = info;
      result.push(descriptor);
    }
    return result;
  }

  private async markPushed(name: string): Promise<void> {
    await this.metadata.addToSet(Keys.repositories, name);
    await this.metadata.set(Keys.repo(name), '1');
  }

  private info(name: string, digest: string): Promise<ManifestInfo | null> {
    return this.reads.info(name, digest);
  }
}

/**
 * `write`, then `forget` whatever became of it. When the write failed, its error is the answer
 * (the change may not have happened; a failed notice is sent again anyway), not the notice's.
 */
async function writeThenForget(write: () => Promise<void>, forget: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    await forget().catch(() => undefined);
    throw error;
  }
  await forget();
}
