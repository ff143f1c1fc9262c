import { PassThrough, Transform, type Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobInfo, BlobWriter } from './types.js';
import { DigestMismatchError } from './errors.js';
import { s3Call } from './s3-client.js';
import { s3Unavailable } from './s3-retry.js';
import { Sha256 } from '../oci/digest.js';

export interface S3WriterOptions {
  /** Multipart part size (S3's minimum is 5 MiB); also the unit of memory per part in flight. */
  readonly partSize: number;
  /** Parts uploaded at once. */
  readonly queueSize: number;
  /** Largest blob copied with one CopyObject (S3 allows 5 GiB); bigger ones use UploadPartCopy. */
  readonly singleCopyLimit: number;
  readonly copyPartSize: number;
}

export interface S3WriterTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly stagingKey: string;
  readonly finalKey: (digest: string) => string;
  /** Whether a committed blob exists already (then the copy is skipped). */
  readonly exists: (digest: string) => Promise<boolean>;
  /** Runs the check-and-copy of one digest exclusively within the process. */
  readonly serialize: <T>(digest: string, fn: () => Promise<T>) => Promise<T>;
  /** Told about every committed blob (the store remembers its size). */
  readonly committed: (info: BlobInfo) => void;
  readonly options: S3WriterOptions;
}

const CONTENT_TYPE = 'application/octet-stream';

/**
 * One blob being written to S3: bytes pass through a hashing Transform straight into a
 * lib-storage multipart upload of the staging key (backpressure included: a slow S3 slows the
 * writer, memory stays bounded). See S3BlobStore for the commit protocol.
 */
export class S3BlobWriter implements BlobWriter {
  readonly stream: Writable;
  private readonly hash = new Sha256();
  private bytes = 0;
  private readonly upload: Upload;
  private readonly uploaded: Promise<void>;
  private commitment: Promise<BlobInfo> | undefined;
  private discarded = false;

  constructor(private readonly target: S3WriterTarget) {
    const transform = new Transform({
      highWaterMark: 1024 * 1024,
      transform: (chunk: Buffer, _encoding, callback) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        callback(null, chunk);
      },
    });
    this.stream = transform;
    // The upload reads `body`, not the writer's stream: a failed upload destroys what it reads
    // (with an AbortError), and the writer's stream must fail with the cause instead (below), so
    // the request it came from is answered 503, not 500. A failed writer stream fails the upload.
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    body.on('error', () => undefined); // the upload's failure is observed through `done()`
    transform.pipe(body);
    transform.once('error', (error) => body.destroy(error));
    this.upload = new Upload({
      client: target.client,
      params: { Bucket: target.bucket, Key: target.stagingKey, Body: body, ContentType: CONTENT_TYPE },
      partSize: target.options.partSize,
      queueSize: target.options.queueSize,
      leavePartsOnError: false,
    });
    this.uploaded = this.upload.done().then(
      () => undefined,
      (error: unknown) => {
        const wrapped = this.discarded ? error : s3Unavailable('upload', error);
        // Writers upstream are blocked on backpressure otherwise: fail them now.
        transform.destroy(wrapped instanceof Error ? wrapped : new Error(String(wrapped)));
        throw wrapped;
      },
    );
    this.uploaded.catch(() => undefined); // observed by commit or abort
  }

  get size(): number {
    return this.bytes;
  }

  commit(expectedDigest?: string): Promise<BlobInfo> {
    // The first call's expected digest is checked before anything is copied into place.
    this.commitment ??= this.commitOnce(expectedDigest);
    return this.commitment.then((info) => {
      if (expectedDigest !== undefined && expectedDigest !== info.digest) throw new DigestMismatchError(expectedDigest, info.digest);
      return info;
    });
  }

  async abort(): Promise<void> {
    if (this.discarded) return;
    if (this.commitment) {
      // After a commit started, only a failed or mismatched one leaves something to discard.
      const committed = await this.commitment.then(
        () => true,
        () => false,
      );
      if (committed) return;
    }
    this.discarded = true;
    await this.discardStaging();
  }

  private async commitOnce(expectedDigest: string | undefined): Promise<BlobInfo> {
    if (this.discarded) throw new Error('the blob writer was aborted');
    try {
      if (!this.stream.writableFinished) await endStream(this.stream);
      await this.uploaded;
    } catch (error) {
      await this.discard();
      throw error;
    }
    const info: BlobInfo = { digest: this.hash.digest(), size: this.bytes };
    if (expectedDigest !== undefined && expectedDigest !== info.digest) {
      await this.discard();
      throw new DigestMismatchError(expectedDigest, info.digest);
    }
    try {
      await this.target.serialize(info.digest, async () => {
        if (!(await this.target.exists(info.digest))) await this.copyIntoPlace(info);
      });
    } catch (error) {
      await this.discard();
      throw error;
    }
    await this.deleteStaging().catch(() => undefined); // a leftover is removed by the lifecycle rule
    this.target.committed(info);
    return info;
  }

  private async copyIntoPlace(info: BlobInfo): Promise<void> {
    const { client, bucket, stagingKey, options } = this.target;
    const key = this.target.finalKey(info.digest);
    const copySource = `${bucket}/${stagingKey.split('/').map(encodeURIComponent).join('/')}`;
    if (info.size <= options.singleCopyLimit) {
      await s3Call('CopyObject', undefined, () =>
        client.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: copySource, ContentType: CONTENT_TYPE, MetadataDirective: 'REPLACE' })),
      );
      return;
    }
    const created = await s3Call('CreateMultipartUpload', undefined, () =>
      client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: CONTENT_TYPE })),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw s3Unavailable('CreateMultipartUpload', new Error('no upload id returned'));
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, part = 1; start < info.size; start += options.copyPartSize, part += 1) {
        const end = Math.min(info.size, start + options.copyPartSize) - 1;
        const copied = await s3Call('UploadPartCopy', undefined, () =>
          client.send(
            new UploadPartCopyCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: part, CopySource: copySource, CopySourceRange: `bytes=${start}-${end}` }),
          ),
        );
        parts.push({ PartNumber: part, ETag: copied.CopyPartResult?.ETag });
      }
      await s3Call('CompleteMultipartUpload', undefined, () =>
        client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } })),
      );
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  private async discard(): Promise<void> {
    this.discarded = true;
    await this.discardStaging();
  }

  private async discardStaging(): Promise<void> {
    this.stream.destroy();
    await this.upload.abort().catch(() => undefined);
    await this.uploaded.catch(() => undefined);
    await this.deleteStaging().catch(() => undefined);
  }

  private deleteStaging(): Promise<unknown> {
    const { client, bucket, stagingKey } = this.target;
    return s3Call('DeleteObject', undefined, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: stagingKey })));
  }
}

function endStream(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) {
      reject(stream.errored ?? new Error('the blob stream was destroyed before it ended'));
      return;
    }
    stream.once('error', reject);
    stream.end(() => {
      stream.off('error', reject);
      resolve();
    });
  });
}
