import type { BlobStore, MetadataStore } from '../storage/types.js';
import { putBlob, readBlob } from '../storage/blob-io.js';
import { isValidDigest, sha256Digest } from '../oci/digest.js';
import { parseManifest, type Descriptor } from '../oci/manifest-validation.js';
import { MediaType } from '../oci/media-types.js';
import { DigestMismatchError } from '../storage/errors.js';
import { ManifestInvalidError, ManifestNotFoundError, ManifestReferenceUnknownError, ManifestTooLargeError } from './errors.js';

/**
 * Content pushed by clients, kept apart from images built from packages. Blobs live in the
 * shared content-addressed blob store; what belongs to which repository, tags, and referrers
 * are metadata records:
 *
 *   repo:<name>                      marker: the repository has pushed content
 *   repo-blobs:<name>                set of blob digests linked into the repository
 *   repo-manifests:<name>            set of manifest digests in the repository
 *   repo-tags:<name>                 set of tags
 *   repo-tag:<name>:<tag>            the manifest digest a tag points at
 *   manifest-info:<name>:<digest>    descriptor of a pushed manifest (type, size, artifact type)
 *   referrers:<name>:<digest>        set of manifest digests whose subject is <digest>
 *
 * Records are written after the blob is committed, so a record never names missing bytes.
 */
export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Buffer;
}

interface ManifestInfo extends Descriptor {
  readonly subject?: string;
}

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const Keys = {
  repo: (name: string) => `repo:${name}`,
  blobs: (name: string) => `repo-blobs:${name}`,
  manifests: (name: string) => `repo-manifests:${name}`,
  tags: (name: string) => `repo-tags:${name}`,
  tag: (name: string, tag: string) => `repo-tag:${name}:${tag}`,
  info: (name: string, digest: string) => `manifest-info:${name}:${digest}`,
  referrers: (name: string, digest: string) => `referrers:${name}:${digest}`,
} as const;

export class PushedRepositories {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
  ) {}

  /** True once anything has been pushed to `name`: it is then served from storage, not built. */
  async isPushed(name: string): Promise<boolean> {
    return (await this.metadata.get(Keys.repo(name))) !== null;
  }

  /** Record that `name` holds blob `digest` (the blob must be committed). */
  async linkBlob(name: string, digest: string): Promise<void> {
    await this.metadata.addToSet(Keys.blobs(name), digest);
    await this.metadata.set(Keys.repo(name), '1');
  }

  async hasBlob(name: string, digest: string): Promise<boolean> {
    if (!(await this.metadata.members(Keys.blobs(name))).includes(digest)) return false;
    return (await this.blobs.stat(digest)) !== null;
  }

  /** @returns false when the repository had no such blob. */
  async unlinkBlob(name: string, digest: string): Promise<boolean> {
    if (!(await this.metadata.members(Keys.blobs(name))).includes(digest)) return false;
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

    // A blob already in the store counts even when not yet linked here: clients skip uploading
    // blobs a HEAD reports present (containerd does), and every stored blob is readable anyway.
    const missing: string[] = [];
    const toLink: string[] = [];
    for (const blob of parsed.blobs) {
      if (await this.hasBlob(name, blob.digest)) continue;
      if ((await this.blobs.stat(blob.digest)) !== null) toLink.push(blob.digest);
      else missing.push(blob.digest);
    }
    const known = await this.metadata.members(Keys.manifests(name));
    for (const child of parsed.manifests) if (!known.includes(child.digest)) missing.push(child.digest);
    if (missing.length > 0) throw new ManifestReferenceUnknownError([...new Set(missing)]);

    for (const digest of toLink) await this.linkBlob(name, digest);
    await putBlob(this.blobs, body);
    const info: ManifestInfo = {
      mediaType: parsed.mediaType,
      digest,
      size: body.length,
      ...(parsed.artifactType !== undefined ? { artifactType: parsed.artifactType } : {}),
      ...(parsed.annotations !== undefined ? { annotations: parsed.annotations } : {}),
      ...(parsed.subject !== undefined ? { subject: parsed.subject.digest } : {}),
    };
    await this.metadata.set(Keys.info(name, digest), JSON.stringify(info));
    await this.metadata.addToSet(Keys.manifests(name), digest);
    if (parsed.subject) await this.metadata.addToSet(Keys.referrers(name, parsed.subject.digest), digest);
    if (!isValidDigest(reference)) {
      await this.metadata.set(Keys.tag(name, reference), digest);
      await this.metadata.addToSet(Keys.tags(name), reference);
    }
    await this.metadata.set(Keys.repo(name), '1');
    return { digest, ...(parsed.subject ? { subject: parsed.subject.digest } : {}) };
  }

  /** A manifest by tag or digest, or null. */
  async getManifest(name: string, reference: string): Promise<StoredManifest | null> {
    const digest = isValidDigest(reference) ? reference : await this.metadata.get(Keys.tag(name, reference));
    if (digest === null || !(await this.metadata.members(Keys.manifests(name))).includes(digest)) return null;
    const info = await this.info(name, digest);
    const body = await readBlob(this.blobs, digest).catch(() => null);
    if (body === null) return null;
    return { digest, mediaType: info?.mediaType ?? MediaType.ociManifest, body };
  }

  /** Delete a tag, or a manifest with every tag pointing at it. @throws ManifestNotFoundError */
  async deleteManifest(name: string, reference: string): Promise<void> {
    if (!isValidDigest(reference)) {
      if ((await this.metadata.get(Keys.tag(name, reference))) === null) throw new ManifestNotFoundError(name, reference);
      await this.metadata.delete(Keys.tag(name, reference));
      await this.metadata.removeFromSet(Keys.tags(name), reference);
      return;
    }
    if (!(await this.metadata.members(Keys.manifests(name))).includes(reference)) throw new ManifestNotFoundError(name, reference);
    for (const tag of await this.tags(name)) {
      if ((await this.metadata.get(Keys.tag(name, tag))) === reference) {
        await this.metadata.delete(Keys.tag(name, tag));
        await this.metadata.removeFromSet(Keys.tags(name), tag);
      }
    }
    const info = await this.info(name, reference);
    if (info?.subject) await this.metadata.removeFromSet(Keys.referrers(name, info.subject), reference);
    await this.metadata.removeFromSet(Keys.manifests(name), reference);
    // Nothing may name the digest any more, so garbage collection can free the blob.
    await this.metadata.delete(Keys.info(name, reference));
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
      const { subject: _subject, ...descriptor } = info;
      result.push(descriptor);
    }
    return result;
  }

  private async info(name: string, digest: string): Promise<ManifestInfo | null> {
    const raw = await this.metadata.get(Keys.info(name, digest));
    return raw === null ? null : (JSON.parse(raw) as ManifestInfo);
  }
}
