import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobInfo, BlobStore, BlobWriter, ByteRange, StoredBlob } from './types.js';
import { BlobNotFoundError } from './errors.js';
import { assertRangeWithin } from './range.js';
import { LruMap } from '../cache/lru-map.js';
import { KeyedMutex } from './keyed-mutex.js';
import { s3Call, s3CallOrNull } from './s3-client.js';
import { S3BlobWriter, type S3WriterOptions } from './s3-blob-writer.js';
import { digestHex, isValidDigest } from '../oci/digest.js';

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  /** Signs redirect URLs; its endpoint is the one clients are sent to. Default: `client`. */
  readonly presignClient?: S3Client;
  readonly bucket: string;
  /** Key prefix for everything stowage stores, `''` or ending in `/`. */
  readonly prefix?: string;
  /** Redirect blob GETs to presigned URLs valid this many seconds; null = serve bytes ourselves. */
  readonly redirectTtlSeconds?: number | null;
  /** Committed blobs whose size is remembered (blobs are immutable, so a hit never goes stale). */
  readonly statCacheSize?: number;
  /**
   * Bytes of small blobs (manifests, configs: at most 256 KiB each) kept in memory, so a cached
   * manifest is served without an S3 round trip. 0 turns it off.
   */
  readonly smallBlobCacheBytes?: number;
  readonly writer?: Partial<S3WriterOptions>;
}

/** Blobs up to this size may be kept in memory: manifests and configs, never layers. */
const SMALL_BLOB_MAX = 256 * 1024;

const DEFAULT_WRITER: S3WriterOptions = {
  partSize: 8 * 1024 * 1024,
  queueSize: 2,
  // S3's CopyObject limit; bigger blobs are copied with UploadPartCopy.
  singleCopyLimit: 5 * 1024 ** 3,
  copyPartSize: 512 * 1024 * 1024,
};

/**
 * Blobs in an S3 bucket (or any S3-compatible store).
 *
 * Layout under `prefix`:
 *   blobs/sha256/<hex>     committed blobs, immutable; the only keys ever served
 *   staging/<uuid>         blobs being written (multipart uploads while in flight)
 *
 * A writer streams through @aws-sdk/lib-storage into a staging key, hashing as it goes, so
 * memory stays at `partSize × (queueSize + 1)` whatever the blob's size. `commit` checks the
 * digest, copies staging to the final key server-side (skipped when it already exists) and
 * deletes staging. A process killed mid-upload leaves an incomplete multipart upload or a
 * staging object: never visible under `blobs/`, removed by `removeStaleStaging` at startup and
 * by the bucket lifecycle rule docs/deployment.md recommends.
 *
 * Garbage collection: a blob's commit time is its object's LastModified. Committing content
 * that exists already renews it (staging is copied over it again), so gc's grace period
 * protects blobs a build has just reused. S3 keeps LastModified to the second; the store
 * reports the end of that second, so a blob never looks older than it is.
 */
export class S3BlobStore implements BlobStore {
  private readonly prefix: string;
  private readonly sizes: LruMap<string, number>;
  private readonly smallBlobs: LruMap<string, Buffer> | null;
  private readonly writerOptions: S3WriterOptions;
  /** Commits of one digest in this process run one at a time: the later ones find it and skip the copy. */
  private readonly commits = new KeyedMutex();

  constructor(private readonly options: S3BlobStoreOptions) {
    const prefix = options.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.sizes = new LruMap(options.statCacheSize ?? 100_000);
    const smallBytes = options.smallBlobCacheBytes ?? 32 * 1024 * 1024;
    this.smallBlobs = smallBytes > 0 ? new LruMap(smallBytes, (blob) => blob.length) : null;
    this.writerOptions = { ...DEFAULT_WRITER, ...options.writer };
  }

  async stat(digest: string, signal?: AbortSignal): Promise<BlobInfo | null> {
    const key = this.blobKey(digest);
    if (key === null) return null;
    const cached = this.sizes.get(digest);
    if (cached !== undefined) return { digest, size: cached };
    const head = await s3CallOrNull('HeadObject', signal, () =>
      this.options.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }), { abortSignal: signal }),
    );
    if (head === null) return null;
    const size = head.ContentLength ?? 0;
    this.sizes.set(digest, size);
    return { digest, size };
  }

  async open(digest: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    const info = await this.stat(digest, signal);
    const key = this.blobKey(digest);
    if (info === null || key === null) throw new BlobNotFoundError(digest);
    if (range) assertRangeWithin(range, info.size);
    const small = this.smallBlobs && info.size <= SMALL_BLOB_MAX ? this.smallBlobs.get(digest) : undefined;
    if (small) return Readable.from([range ? small.subarray(range.start, range.end + 1) : small]);
    const command = new GetObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
    });
    const output = await s3CallOrNull('GetObject', signal, () => this.options.client.send(command, { abortSignal: signal }));
    if (output === null) {
      this.sizes.delete(digest);
      throw new BlobNotFoundError(digest);
    }
    if (!(output.Body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
    if (!this.smallBlobs || range || info.size > SMALL_BLOB_MAX) return output.Body;
    const chunks: Buffer[] = [];
    for await (const chunk of output.Body) chunks.push(chunk as Buffer);
    const blob = Buffer.concat(chunks);
    if (blob.length === info.size) this.smallBlobs.set(digest, blob);
    return Readable.from([blob]);
  }

  async writer(signal?: AbortSignal): Promise<BlobWriter> {
    signal?.throwIfAborted();
    return new S3BlobWriter({
      client: this.options.client,
      bucket: this.options.bucket,
      stagingKey: `${this.prefix}staging/${randomUUID()}`,
      finalKey: (digest) => this.finalKey(digest),
      // Copied into place even when the blob exists: the copy renews its LastModified, its commit
      // time for gc's grace period (a metadata-only copy onto itself does not renew it on every
      // S3-compatible server). Re-commits of existing content are rare: cache hits write nothing.
      exists: async (digest) => {
        this.sizes.delete(digest);
        return false;
      },
      serialize: (digest, fn) => this.commits.run(digest, fn),
      committed: (info) => this.sizes.set(info.digest, info.size),
      options: this.writerOptions,
    });
  }

  async redirectUrl(digest: string): Promise<string | null> {
    const ttl = this.options.redirectTtlSeconds;
    const key = this.blobKey(digest);
    if (!ttl || key === null) return null;
    return getSignedUrl(this.options.presignClient ?? this.options.client, new GetObjectCommand({ Bucket: this.options.bucket, Key: key }), {
      expiresIn: ttl,
    });
  }

  /** Throws StorageUnavailableError unless the bucket answers (readiness probe). */
  async ping(signal?: AbortSignal): Promise<void> {
    await s3Call('HeadBucket', signal, () => this.options.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }), { abortSignal: signal }));
  }

  /**
   * Remove staging objects and abort multipart uploads under `staging/` older than `maxAgeMs`
   * (left by crashed processes). Servers without ListMultipartUploads are tolerated.
   * @returns how many objects and uploads were removed.
   */
  async removeStaleStaging(maxAgeMs: number, signal?: AbortSignal): Promise<number> {
    const { client, bucket } = this.options;
    const stagingPrefix = `${this.prefix}staging/`;
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await s3Call('ListObjectsV2', signal, () =>
        client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: stagingPrefix, ContinuationToken: token }), { abortSignal: signal }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || (object.LastModified?.getTime() ?? 0) >= cutoff) continue;
        await s3Call('DeleteObject', signal, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }), { abortSignal: signal }));
        removed += 1;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const uploads = await client
      .send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: stagingPrefix }), { abortSignal: signal })
      .catch(() => null); // not every S3-compatible server implements it; the lifecycle rule covers them
    for (const upload of uploads?.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || (upload.Initiated?.getTime() ?? 0) >= cutoff) continue;
      await s3Call('AbortMultipartUpload', signal, () =>
        client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }), { abortSignal: signal }),
      );
      removed += 1;
    }
    return removed;
  }

  /** Every committed blob under `blobs/`, a page of ListObjectsV2 at a time. */
  async *list(signal?: AbortSignal): AsyncIterable<StoredBlob> {
    const { client, bucket } = this.options;
    const blobPrefix = `${this.prefix}blobs/sha256/`;
    let token: string | undefined;
    do {
      const page = await s3Call('ListObjectsV2', signal, () =>
        client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: blobPrefix, ContinuationToken: token }), { abortSignal: signal }),
      );
      for (const object of page.Contents ?? []) {
        const hex = object.Key?.slice(blobPrefix.length) ?? '';
        if (!/^[a-f0-9]{64}$/.test(hex)) continue;
        yield { digest: `sha256:${hex}`, size: object.Size ?? 0, committedAt: endOfSecond(object.LastModified) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * S3 has no conditional delete on LastModified, so the commit time is read just before the
   * delete; a commit in the instant between them loses its blob, which readers notice (they
   * check blobs exist before trusting a record) and build again.
   */
  async delete(digest: string, options: { readonly committedBefore?: number; readonly signal?: AbortSignal } = {}): Promise<boolean> {
    const key = this.blobKey(digest);
    if (key === null) return false;
    const { client, bucket } = this.options;
    const { signal } = options;
    const head = await s3CallOrNull('HeadObject', signal, () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }));
    if (head === null) return false;
    if (options.committedBefore !== undefined && endOfSecond(head.LastModified) >= options.committedBefore) return false;
    this.sizes.delete(digest);
    this.smallBlobs?.delete(digest);
    await s3Call('DeleteObject', signal, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }));
    this.sizes.delete(digest);
    return true;
  }

  private blobKey(digest: string): string | null {
    if (!isValidDigest(digest) || !digest.startsWith('sha256:')) return null;
    return this.finalKey(digest);
  }

  private finalKey(digest: string): string {
    return `${this.prefix}blobs/sha256/${digestHex(digest)}`;
  }
}

/** The latest instant a whole-second LastModified can stand for. */
function endOfSecond(lastModified: Date | undefined): number {
  return lastModified ? Math.floor(lastModified.getTime() / 1000) * 1000 + 999 : 0;
}
