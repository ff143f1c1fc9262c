import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { RedisConnection } from '../../src/storage/redis-client.js';
import { RedisLockManager } from '../../src/storage/redis-lock-manager.js';
import { REPO_ROOT } from '../support/registry-server.js';
import { useRedisServer } from '../support/redis-server.js';
import { useS3Server } from '../support/s3-server.js';

const redis = useRedisServer();
const s3 = useS3Server({ bucket: 'stowage-killed-upload' });

describe('a process killed mid-upload', () => {
  it('leaves no visible blob and no lock past its expiry', async () => {
    const prefix = `killed-${Date.now()}/`;
    const lockTtlMs = 2_000;
    // The child streams 12 MB (two 5 MB parts go up) under a lock, then hangs until killed.
    const script = `
      const { S3BlobStore } = await import(${JSON.stringify(join(REPO_ROOT, 'src/storage/s3-blob-store.ts'))});
      const { createS3Client } = await import(${JSON.stringify(join(REPO_ROOT, 'src/storage/s3-client.ts'))});
      const { RedisConnection } = await import(${JSON.stringify(join(REPO_ROOT, 'src/storage/redis-client.ts'))});
      const { RedisLockManager } = await import(${JSON.stringify(join(REPO_ROOT, 'src/storage/redis-lock-manager.ts'))});
      const client = createS3Client({ region: 'us-east-1', endpoint: ${JSON.stringify(s3().endpoint)}, forcePathStyle: true });
      const store = new S3BlobStore({ client, bucket: ${JSON.stringify(s3().bucket)}, prefix: ${JSON.stringify(prefix)}, writer: { partSize: 5 * 1024 * 1024, queueSize: 1 } });
      const connection = new RedisConnection({ url: ${JSON.stringify(redis().url)} });
      await connection.connect();
      const locks = new RedisLockManager(connection, { keyPrefix: ${JSON.stringify(prefix)} });
      await locks.withLock('layer:crash', ${lockTtlMs}, async () => {
        const writer = await store.writer();
        const chunk = Buffer.alloc(1024 * 1024, 7);
        for (let i = 0; i < 12; i += 1) {
          if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
        process.stdout.write('uploading\\n');
        await new Promise(() => {});
      });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...s3().env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('uploading') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });

    const connection = new RedisConnection({ url: redis().url });
    await connection.connect();
    try {
      expect(await connection.client.pttl(`${prefix}lock:layer:crash`)).toBeGreaterThan(0);
      const deadToken = await connection.client.get(`${prefix}lock:layer:crash`);
      expect(deadToken).toEqual(expect.any(String));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));

      // Nothing under blobs/: the staged parts are in an unfinished multipart upload.
      const store = s3().blobStore({ prefix });
      expect(await store.stat(`sha256:${createHash('sha256').update(Buffer.alloc(12 * 1024 * 1024, 7)).digest('hex')}`)).toBeNull();
      const listed = await s3().client().send(new ListObjectsV2Command({ Bucket: s3().bucket, Prefix: `${prefix}blobs/` }));
      expect(listed.KeyCount ?? 0).toBe(0);
      await store.removeStaleStaging(0);

      // Another replica gets the lock once the dead key expires, not before (SET NX: its own token).
      const locks = new RedisLockManager(connection, { keyPrefix: prefix });
      const token = await locks.withLock('layer:crash', lockTtlMs, async () => connection.client.get(`${prefix}lock:layer:crash`));
      expect(token).toEqual(expect.any(String));
      expect(token).not.toBe(deadToken);
      expect(await connection.client.exists(`${prefix}lock:layer:crash`)).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await connection.close();
    }
  });
});
