import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { putBlob, readBlob } from '../../src/storage/blob-io.js';
import { StorageUnavailableError } from '../../src/storage/errors.js';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { useS3Server } from '../support/s3-server.js';

const s3 = useS3Server({ bucket: 'stowage-unit' });
const MiB = 1024 * 1024;
const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3().client().send(new ListObjectsV2Command({ Bucket: s3().bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

describe('S3BlobStore', () => {
  it('streams a multi-part blob through staging into blobs/sha256/<hex>, leaving no staging object', async () => {
    const prefix = `multi-${Date.now()}/`;
    const store = s3().blobStore({ prefix, writer: { partSize: 5 * MiB, queueSize: 2 } });
    const data = randomBytes(12 * MiB + 123);
    const info = await putBlob(store, data);
    expect(info).toEqual({ digest: digestOf(data), size: data.length });
    expect(await keysUnder(prefix)).toEqual([`${prefix}blobs/sha256/${info.digest.slice(7)}`]);
    expect((await readBlob(store, info.digest)).equals(data)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.open(info.digest, { start: 5 * MiB - 10, end: 5 * MiB + 9 })) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
  });

  it('removes the staging object when a commit is refused or aborted', async () => {
    const prefix = `abort-${Date.now()}/`;
    const store = s3().blobStore({ prefix });
    const writer = await store.writer();
    await new Promise<void>((resolve) => writer.stream.end(Buffer.from('wrong'), () => resolve()));
    await expect(writer.commit(digestOf(Buffer.from('right')))).rejects.toThrow(/does not match/);
    await writer.abort();
    const aborted = await store.writer();
    aborted.stream.write(randomBytes(1024));
    await aborted.abort();
    expect(await keysUnder(prefix)).toEqual([]);
  });

  it('redirects to a presigned URL on the public endpoint that serves the blob', async () => {
    const prefix = `redirect-${Date.now()}/`;
    const publicClient = s3().client(s3().endpoint.replace('127.0.0.1', 'localhost'));
    const store = s3().blobStore({ prefix, redirectTtlSeconds: 120, presignClient: publicClient });
    const data = randomBytes(4096);
    const { digest } = await putBlob(store, data);
    const url = await store.redirectUrl(digest);
    expect(url).toMatch(/^http:\/\/localhost:\d+\/stowage-unit\/redirect-\d+\/blobs\/sha256\/[0-9a-f]{64}\?/);
    expect(url).toContain('X-Amz-Expires=120');
    const response = await fetch(url as string);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(data)).toBe(true);
    expect(await s3().blobStore({ prefix }).redirectUrl(digest)).toBeNull();
  });

  it('removes staging objects older than the given age', async () => {
    const prefix = `stale-${Date.now()}/`;
    const store = s3().blobStore({ prefix });
    await s3().client().send(new PutObjectCommand({ Bucket: s3().bucket, Key: `${prefix}staging/left-by-a-crash`, Body: 'partial' }));
    expect(await store.removeStaleStaging(60_000)).toBe(0);
    expect(await store.removeStaleStaging(0)).toBe(1);
    expect(await keysUnder(prefix)).toEqual([]);
  });

  it('copies blobs past the single-copy limit part by part', async () => {
    // s3rver lacks UploadPartCopy: emulate it with a ranged GET and an UploadPart, so the
    // writer's multipart-copy sequence runs against a real server.
    const client = s3().client();
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    const ranges: string[] = [];
    (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (!(command instanceof UploadPartCopyCommand)) return send(command);
      const { Bucket, Key, UploadId, PartNumber, CopySource, CopySourceRange } = command.input;
      ranges.push(CopySourceRange ?? '');
      const [sourceBucket, ...sourceKey] = decodeURIComponent(CopySource ?? '').split('/');
      const part = (await send(new GetObjectCommand({ Bucket: sourceBucket, Key: sourceKey.join('/'), Range: CopySourceRange }))) as { Body: { transformToByteArray(): Promise<Uint8Array> } };
      const uploaded = (await send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: await part.Body.transformToByteArray() }))) as { ETag?: string };
      return { CopyPartResult: { ETag: uploaded.ETag } };
    };
    const prefix = `partcopy-${Date.now()}/`;
    const store = new S3BlobStore({
      client: client as S3Client,
      bucket: s3().bucket,
      prefix,
      writer: { partSize: 5 * MiB, queueSize: 2, singleCopyLimit: 6 * MiB, copyPartSize: 5 * MiB },
    });
    const data = randomBytes(11 * MiB);
    const { digest } = await putBlob(store, data);
    expect(ranges).toEqual([`bytes=0-${5 * MiB - 1}`, `bytes=${5 * MiB}-${10 * MiB - 1}`, `bytes=${10 * MiB}-${11 * MiB - 1}`]);
    expect((await readBlob(store, digest)).equals(data)).toBe(true);
  });

  it('serves small blobs (manifests) from memory after the first read, layers always from S3', async () => {
    const client = s3().client();
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    let gets = 0;
    (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command: unknown) => {
      if (command instanceof GetObjectCommand) gets += 1;
      return send(command);
    };
    const store = new S3BlobStore({ client: client as S3Client, bucket: s3().bucket, prefix: `small-${Date.now()}/`, smallBlobCacheBytes: 1024 * 1024 });
    const manifest = await putBlob(store, Buffer.from('{"schemaVersion":2}'));
    const layer = await putBlob(store, randomBytes(300 * 1024));
    for (let i = 0; i < 3; i += 1) {
      expect((await readBlob(store, manifest.digest)).toString()).toBe('{"schemaVersion":2}');
      await readBlob(store, layer.digest);
    }
    const ranged: Buffer[] = [];
    for await (const chunk of await store.open(manifest.digest, { start: 1, end: 2 })) ranged.push(chunk as Buffer);
    expect(Buffer.concat(ranged).toString()).toBe('"s');
    expect(gets).toBe(1 + 3);
  });

  it('answers readiness when the bucket exists, and StorageUnavailableError otherwise', async () => {
    await expect(s3().blobStore().ping()).resolves.toBeUndefined();
    const missing = new S3BlobStore({ client: s3().client(), bucket: 'no-such-bucket' });
    await expect(missing.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
