import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { putBlob, readBlob } from '../../src/storage/blob-io.js';
import { StorageUnavailableError } from '../../src/storage/errors.js';
import { MemoryMetadataStore } from '../../src/storage/memory-metadata-store.js';
import { RedisConnection } from '../../src/storage/redis-client.js';
import type { BlobStore } from '../../src/storage/types.js';
import { FakePackageSource } from '../support/fake-source.js';
import { startFaultProxy, type FaultProxy } from '../support/s3-fault-proxy.js';
import { useRedisServer } from '../support/redis-server.js';
import { useS3Server } from '../support/s3-server.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const redis = useRedisServer();
const s3 = useS3Server({ bucket: 'stowage-failures' });
const apps: App[] = [];

beforeAll(() => {
  // buildApp's S3 client takes credentials from the AWS default chain, as in production.
  Object.assign(process.env, s3().env);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.server.close()));
});

async function registry(deps: { blobs?: BlobStore; redis?: boolean; prefix: string }): Promise<App> {
  const app = await buildApp(
    parseConfig({
      dataDir: await mkdtemp(join(tmpdir(), 'stowage-failures-')),
      source: { kind: 'nix', shellPackages: ['minishell'] },
      storage: { backend: 's3', s3: { bucket: s3().bucket, endpoint: s3().endpoint, forcePathStyle: true, prefix: deps.prefix, maxAttempts: 3 } },
      ...(deps.redis ? { metadata: { backend: 'redis', redis: { url: redis().url, keyPrefix: deps.prefix, commandTimeoutMs: 500 } } } : {}),
    }),
    {
      source: await FakePackageSource.create(),
      logger: pino({ level: 'silent' }),
      ...(deps.blobs ? { blobs: deps.blobs } : {}),
      ...(deps.redis ? {} : { metadata: new MemoryMetadataStore() }),
    },
  );
  apps.push(app);
  return app;
}

async function get(app: App, url: string, method: 'GET' | 'HEAD' = 'GET') {
  return app.server.inject({ method, url, headers: { accept: OCI } });
}

describe('Redis unreachable', () => {
  it('keeps serving cached manifests and blobs, refuses new builds with 503, and recovers', async () => {
    const app = await registry({ redis: true, prefix: 'outage/' });
    const first = await get(app, '/v2/shell/tool/manifests/latest');
    expect(first.statusCode).toBe(200);
    const digest = first.headers['docker-content-digest'] as string;
    const layers = (first.json() as { layers: Array<{ digest: string }> }).layers.map((layer) => layer.digest);

    await redis().kill();

    const again = await get(app, '/v2/shell/tool/manifests/latest');
    expect(again.statusCode, again.body).toBe(200);
    expect(again.headers['docker-content-digest']).toBe(digest);
    expect((await get(app, '/v2/shell/tool/manifests/latest', 'HEAD')).statusCode).toBe(200);
    expect((await get(app, `/v2/shell/tool/manifests/${digest}`)).statusCode).toBe(200);
    for (const layer of layers) {
      const blob = await get(app, `/v2/shell/tool/blobs/${layer}`);
      expect(blob.statusCode).toBe(200);
      expect(`sha256:${createHash('sha256').update(blob.rawPayload).digest('hex')}`).toBe(layer);
    }

    const fresh = await get(app, '/v2/extra/manifests/latest');
    expect(fresh.statusCode).toBe(503);
    expect(fresh.headers['retry-after']).toBeDefined();
    const error = (fresh.json() as { errors: Array<{ code: string; message: string }> }).errors[0];
    expect(error?.code).toBe('UNAVAILABLE');
    expect(error?.message).toMatch(/Redis at 127\.0\.0\.1:\d+ is unreachable.*new builds are refused/);

    const ready = await get(app, '/readyz');
    expect(ready.statusCode).toBe(503);
    expect((ready.json() as { checks: Record<string, string> }).checks.storage).toBe('ok');
    expect((ready.json() as { checks: Record<string, string> }).checks.redis).toMatch(/unreachable/);
    expect((await get(app, '/healthz')).statusCode).toBe(200);

    await redis().restart();
    const deadline = Date.now() + 10_000;
    while ((await get(app, '/readyz')).statusCode !== 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await get(app, '/v2/extra/manifests/latest')).statusCode).toBe(200);
  });
});

describe('shutdown', () => {
  it('closes the Redis connection when the server closes', async () => {
    const observer = new RedisConnection({ url: redis().url });
    await observer.connect();
    try {
      const clients = async () => String(await observer.client.call('CLIENT', 'LIST')).trim().split('\n').length;
      const before = await clients();
      const app = await registry({ redis: true, prefix: 'shutdown/' });
      // One connection for commands, one subscribed to other replicas' change notices.
      const opened = Date.now() + 2_000;
      while ((await clients()) !== before + 2 && Date.now() < opened) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await clients()).toBe(before + 2);
      await app.server.close();
      apps.splice(apps.indexOf(app), 1);
      const deadline = Date.now() + 2_000;
      while ((await clients()) !== before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await clients()).toBe(before);
    } finally {
      await observer.close();
    }
  });
});

describe('S3 errors', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(s3().port);
  });
  afterAll(async () => {
    await proxy.close();
  });
  afterEach(() => {
    proxy.failAll = false;
    proxy.failNext = 0;
  });

  const storeViaProxy = () => s3().blobStore({ client: s3().client(proxy.url) });

  it('retries throttling and server errors with backoff, then succeeds', async () => {
    const store = storeViaProxy();
    proxy.kind = '503';
    proxy.failNext = 2;
    const before = proxy.failures;
    const data = randomBytes(64 * 1024);
    const info = await putBlob(store, data);
    expect(proxy.failures - before).toBe(2);
    expect((await readBlob(store, info.digest)).equals(data)).toBe(true);
  });

  it('retries reset connections, then succeeds', async () => {
    const store = storeViaProxy();
    proxy.kind = 'reset';
    proxy.failNext = 2;
    const data = randomBytes(1024);
    const info = await putBlob(store, data);
    expect(proxy.failNext).toBe(0);
    expect(await store.stat(info.digest)).toEqual(info);
  });

  it('gives up after the configured attempts with StorageUnavailableError', async () => {
    const store = storeViaProxy();
    proxy.kind = '503';
    proxy.failAll = true;
    const before = proxy.requests;
    const error = await store.stat(`sha256:${'0'.repeat(64)}`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toMatch(/blob storage \(S3\) is unavailable: HeadObject failed/);
    expect(proxy.requests - before).toBe(3);
  });

  it('gives up on a stalled S3 (connections open, no byte back) with StorageUnavailableError', async () => {
    const store = s3().blobStore({ client: s3().client(proxy.url, { socketTimeoutMs: 300 }) });
    proxy.kind = 'stall';
    proxy.failAll = true;
    const before = proxy.requests;
    const error = await store.stat(`sha256:${'0'.repeat(64)}`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(proxy.requests - before).toBe(3);
  });

  it('answers 503 UNAVAILABLE for blobs and new builds while S3 keeps failing', async () => {
    const app = await registry({ blobs: storeViaProxy(), prefix: 's3-down/' });
    const built = await get(app, '/v2/shell/tool/manifests/latest');
    expect(built.statusCode).toBe(200);
    const layer = (built.json() as { layers: Array<{ digest: string }> }).layers[0]?.digest as string;
    proxy.kind = 'reset';
    proxy.failAll = true;
    const blob = await get(app, `/v2/shell/tool/blobs/${layer}`);
    expect(blob.statusCode, blob.body).toBe(503);
    expect(blob.headers['retry-after']).toBeDefined();
    const error = (blob.json() as { errors: Array<{ code: string; message: string }> }).errors[0];
    expect(error?.code).toBe('UNAVAILABLE');
    expect(error?.message).toMatch(/blob storage \(S3\) is unavailable: GetObject failed/);
    const fresh = await get(app, '/v2/extra/manifests/latest');
    expect(fresh.statusCode).toBe(503);
  });

  /**
   * A monolithic blob push of 30 MB while S3 refuses every request: the upload fails while the
   * body is still arriving, which destroyed the request under the handler. It was answered 500
   * (the upload's AbortError), and the body timeout's disarm then threw on the request's null
   * socket in a 'close' listener, killing the process.
   */
  it('answers 503 UNAVAILABLE to a large blob push and the process goes on serving', async () => {
    const app = await buildApp(
      parseConfig({
        host: '127.0.0.1',
        port: 0,
        dataDir: await mkdtemp(join(tmpdir(), 'stowage-failures-')),
        source: { kind: 'nix', shellPackages: ['minishell'] },
        push: { namespaces: ['team'] },
        auth: { htpasswdFile: await writeHtpasswd() },
      }),
      { source: await FakePackageSource.create(), logger: pino({ level: 'silent' }), blobs: s3().blobStore({ client: s3().client(proxy.url) }), metadata: new MemoryMetadataStore() },
    );
    apps.push(app);
    await app.server.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
    const authorization = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;
    proxy.kind = 'reset';
    proxy.failAll = true;
    const body = randomBytes(30 * 1024 * 1024);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    // One connection per request (`Connection: close`): the answer may come while the body is
    // still being sent, and the client then stops sending.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${url}/v2/team/big/blobs/uploads/?digest=${digest}`, { method: 'POST', agent: false, headers: { authorization, 'content-length': body.length } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: text });
          request.destroy();
        });
      });
      request.on('error', reject);
      request.end(body);
    });
    expect(answer.status, answer.body).toBe(503);
    expect((JSON.parse(answer.body) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNAVAILABLE');
    // A 'close' listener that throws would have ended the process by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const alive = await new Promise<number>((resolve, reject) =>
      httpRequest(`${url}/v2/`, { agent: false, headers: { authorization } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    expect(alive).toBe(200);
  }, 60_000);
});
