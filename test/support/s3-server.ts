import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/storage/s3-client.js';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/storage/s3-blob-store.js';

/** s3rver's credentials: any signature is accepted for them. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** The part of s3rver's API the tests use (it ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly store: S3rverStore;
}

/** s3rver's filesystem store, as far as the fix below needs it. */
interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: { bucket: string; key: string; content: Buffer | Readable; metadata: unknown }): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver 3.7 answers PutObject and UploadPart when its hashing Transform has seen the last byte,
 * before the file is written: a CopyObject or CompleteMultipartUpload right after may read a
 * short file, and a DeleteObject may remove the directory under a write still opening (an
 * uncaught ENOENT). Real S3 and MinIO answer after the data is stored; make s3rver do so too.
 */
function fixWriteOrdering(store: S3rverStore): void {
  const write = async (path: string, content: Buffer | Readable): Promise<{ size: number; md5: string }> => {
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(Buffer.isBuffer(content) ? Readable.from([content]) : content, count, createWriteStream(path));
    return { size, md5: md5.digest('hex') };
  };
  store.putObject = async (object) => {
    const result = await write(store.getResourcePath(object.bucket, object.key, 'object'), object.content);
    await store.putMetadata(object.bucket, object.key, object.metadata, result.md5);
    return result;
  };
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const path = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    const result = await write(path, content);
    await writeFile(`${path}.md5`, result.md5);
    return result;
  };
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface RunningS3 {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  /** Environment for a child process (AWS default credential chain plus region). */
  readonly env: Readonly<Record<string, string>>;
  /** A client with fast retries (tests should not sleep for seconds). */
  client(endpoint?: string, options?: { socketTimeoutMs?: number }): S3Client;
  /** A blob store under its own fresh prefix. */
  blobStore(options?: Partial<S3BlobStoreOptions>): S3BlobStore;
  close(): Promise<void>;
}

let storeCounter = 0;

/**
 * Start s3rver (an S3-compatible server in Node, offline) on a free loopback port with one
 * bucket, storing its files in a temporary directory.
 */
export async function startS3Server(options: { bucket?: string; port?: number } = {}): Promise<RunningS3> {
  const bucket = options.bucket ?? 'stowage-test';
  const directory = await mkdtemp(join(tmpdir(), 'stowage-s3rver-'));
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  fixWriteOrdering(server.store);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = (at = endpoint, options: { socketTimeoutMs?: number } = {}): S3Client =>
    createS3Client({
      region: 'us-east-1',
      endpoint: at,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      ...options,
    });
  const shared = client();
  return {
    endpoint,
    port,
    bucket,
    env: {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    client,
    blobStore(overrides = {}) {
      storeCounter += 1;
      return new S3BlobStore({ client: shared, bucket, prefix: `t${process.pid}-${storeCounter}/`, ...overrides });
    },
    async close() {
      shared.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Start s3rver before the file's tests and stop it after; the getter is valid inside tests. */
export function useS3Server(options: { bucket?: string } = {}): () => RunningS3 {
  let running: RunningS3 | undefined;
  beforeAll(async () => {
    running = await startS3Server(options);
  });
  afterAll(async () => {
    await running?.close();
  });
  return () => {
    if (!running) throw new Error('s3rver is not running (use it inside tests)');
    return running;
  };
}
