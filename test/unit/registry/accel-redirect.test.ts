import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileRangeStream } from '../../../src/storage/fs-blob-stream.js';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.js';
import { nodeBlobFileSystem, type BlobFileSystem } from '../../../src/storage/fs-blob-read.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../../support/htpasswd.js';
import { digestOf } from '../../conformance/client.js';

/** server.accelRedirectPrefix: which blob GETs stowage hands to the proxy, and how it answers them. */
const auth = { authorization: `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}` };
const marked = { ...auth, 'x-stowage-accel': '1' };
const data = Buffer.alloc(256 * 1024, 3);
const digest = digestOf(data);
const accelPath = `/_blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}`;
let app: App;
let root: string;
const looks = { count: 0 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stowage-accel-'));
  const counting: BlobFileSystem = {
    stat: (path) => ((looks.count += 1), nodeBlobFileSystem.stat(path)),
    fstat: (handle) => ((looks.count += 1), nodeBlobFileSystem.fstat(handle)),
    open: (path, flags, mode) => nodeBlobFileSystem.open(path, flags, mode),
  };
  const blobs = new FsBlobStore(join(root, 'storage'), counting);
  await blobs.init();
  app = await buildApp(
    parseConfig({ dataDir: root, source: { kind: 'nix', shellPackages: ['minishell'], systems: ['x86_64-linux'] }, auth: { htpasswdFile: await writeHtpasswd() }, server: { accelRedirectPrefix: '/_blobs/' } }),
    { source: await FakePackageSource.create(), blobs, metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
  const pushed = await app.server.inject({ method: 'POST', url: `/v2/team/a/blobs/uploads/?digest=${digest}`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: data });
  expect(pushed.statusCode).toBe(201);
});

afterAll(async () => {
  await app?.server.close();
  await rm(root, { recursive: true, force: true });
});

const get = (headers: Record<string, string>, method: 'GET' | 'HEAD' = 'GET') => app.server.inject({ method, url: `/v2/team/a/blobs/${digest}`, headers });

describe('blob GET behind a proxy that sends files', () => {
  it('answers a marked GET, whole or one range, with X-Accel-Redirect, its headers and no body, after one look at the file', async () => {
    for (const range of [undefined, 'bytes=5-9', 'bytes=-3', 'bytes=100-']) {
      looks.count = 0;
      const response = await get(range === undefined ? marked : { ...marked, range });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-accel-redirect']).toBe(accelPath);
      expect(response.rawPayload.length).toBe(0);
      expect(response.headers['docker-content-digest']).toBe(digest);
      expect(response.headers.etag).toBe(`"${digest}"`);
      expect(response.headers['content-type']).toBe('application/octet-stream');
      expect(response.headers['accept-ranges']).toBeUndefined();
      expect(looks.count).toBe(1);
    }
  });

  it('sends the bytes itself to unmarked requests, HEAD, several ranges and If-Range', async () => {
    for (const [headers, method, status] of [
      [auth, 'GET', 200],
      [marked, 'HEAD', 200],
      [{ ...marked, range: 'bytes=0-1,5-6' }, 'GET', 200],
      [{ ...marked, range: 'bytes=9-3' }, 'GET', 200],
      [{ ...marked, range: 'bytes=0-1', 'if-range': `"${digest}"` }, 'GET', 206],
    ] as const) {
      const response = await get(headers, method);
      expect(response.statusCode).toBe(status);
      expect(response.headers['x-accel-redirect']).toBeUndefined();
      if (method === 'GET') expect(response.rawPayload.equals(status === 206 ? data.subarray(0, 2) : data)).toBe(true);
    }
  });

  it('streams a file it sends itself through reused buffers into its HTTP/1 response, and only there', async () => {
    const vouched = vi.spyOn(FileRangeStream.prototype, 'reuseBuffersFor');
    try {
      const response = await get(auth);
      expect(response.rawPayload.equals(data)).toBe(true);
      expect(vouched).toHaveBeenCalledTimes(1);
      expect(vouched.mock.calls[0]?.[0]).toBeInstanceOf(ServerResponse);
    } finally {
      vouched.mockRestore();
    }
  });

  it('keeps its own answers for If-None-Match, a range outside the blob and a blob whose file is gone', async () => {
    expect((await get({ ...marked, 'if-none-match': `"${digest}"` })).statusCode).toBe(304);
    const outside = await get({ ...marked, range: `bytes=${data.length}-` });
    expect(outside.statusCode).toBe(416);
    expect(outside.json<{ errors: Array<{ code: string }> }>().errors[0]?.code).toBe('RANGE_INVALID');
    await rm(join(root, 'storage', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7)));
    const gone = await get(marked);
    expect(gone.statusCode).toBe(404);
    expect(gone.json<{ errors: Array<{ code: string }> }>().errors[0]?.code).toBe('BLOB_UNKNOWN');
    expect(gone.headers['x-accel-redirect']).toBeUndefined();
  });

  it('is refused at startup with S3 storage', () => {
    expect(() => parseConfig({ storage: { backend: 's3', s3: { bucket: 'b' } }, server: { accelRedirectPrefix: '/_blobs/' } })).toThrow(/accelRedirectPrefix/);
    expect(() => parseConfig({ server: { accelRedirectPrefix: 'no-slashes' } })).toThrow(/accelRedirectPrefix/);
  });
});
