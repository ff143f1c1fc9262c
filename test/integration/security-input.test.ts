import { Writable } from 'node:stream';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore, BlobWriter, ByteRange } from '../../src/storage/types.js';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { basicAuth, envelopeCode, rawRequest, rawSocketExchange } from '../support/raw-http.js';
import { digestOf } from '../conformance/client.js';

/** A blob store whose disk can be "full": every write then fails with ENOSPC, as the kernel's would. */
class FillableBlobStore implements BlobStore {
  full = false;
  constructor(private readonly inner: BlobStore) {}
  stat(digest: string, signal?: AbortSignal) {
    return this.inner.stat(digest, signal);
  }
  open(digest: string, range?: ByteRange, signal?: AbortSignal) {
    return this.inner.open(digest, range, signal);
  }
  redirectUrl(digest: string) {
    return this.inner.redirectUrl(digest);
  }
  async writer(signal?: AbortSignal): Promise<BlobWriter> {
    const inner = await this.inner.writer(signal);
    if (!this.full) return inner;
    const stream = new Writable({
      write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })),
    });
    return { stream, size: 0, commit: (digest) => inner.commit(digest), abort: () => inner.abort() };
  }
}

/** Issue 11 points 9, 10 and 12 through the real server. */
describe('bad input and bad luck answer in the OCI envelope', () => {
  let registry: RunningRegistry;
  let blobs: FillableBlobStore;
  const lines: Array<{ level: number; msg: string; url?: string; status?: number }> = [];
  const auth = { authorization: basicAuth(TEST_USER, TEST_PASSWORD) };

  beforeAll(async () => {
    const inner = new FsBlobStore(await mkdtemp(join(tmpdir(), 'stowage-blobs-')));
    await inner.init();
    blobs = new FillableBlobStore(inner);
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as (typeof lines)[number]);
        callback();
      },
    });
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd() } }, { source: await FakePackageSource.create(), blobs, logger: pino({ level: 'info' }, sink) });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('refuses repeated query parameters with 400 (point 9)', async () => {
    const digest = digestOf('x');
    for (const [method, path, headers] of [
      ['POST', `/v2/team/app/blobs/uploads/?mount=${digest}&from=a&from=b`, auth],
      ['POST', `/v2/team/app/blobs/uploads/?digest=${digest}&digest=${digest}`, auth],
      ['GET', '/v2/tool/tags/list?n=1&n=2', {}],
      ['GET', '/v2/tool/tags/list?last=a&last=b', {}],
      ['GET', '/api/v1/package-sizes?names=a&names=b', {}],
      ['GET', '/api/v1/images/tool?tag=a&tag=b', {}],
    ] as const) {
      const response = await rawRequest(registry.host, method, path, { headers });
      expect(response.status, path).toBe(400);
      expect(envelopeCode(response), path).toBe('UNSUPPORTED');
    }
  });

  it('answers a full disk with 507 naming storage, and recovers when space returns (point 10)', async () => {
    const data = Buffer.from('a blob for a full disk');
    const push = () => rawRequest(registry.host, 'POST', `/v2/team/app/blobs/uploads/?digest=${digestOf(data)}`, { headers: { ...auth, 'content-type': 'application/octet-stream' }, body: data });
    blobs.full = true;
    const refused = await push();
    expect(refused.status).toBe(507);
    expect(envelopeCode(refused)).toBe('UNAVAILABLE');
    expect(refused.body.toString()).toContain('storage is full');
    expect(refused.headers['retry-after']).toBeDefined();
    blobs.full = false;
    expect((await push()).status).toBe(201);
    expect((await rawRequest(registry.host, 'GET', `/v2/team/app/blobs/${digestOf(data)}`)).body.equals(data)).toBe(true);
  });

  it('answers a malformed path, unknown methods and a bad body in the envelope (point 10)', async () => {
    for (const path of ['/v2/%zz/manifests/latest', '/v2/tool/manifests/%', '/api/v1/images/%E0%A4%A']) {
      const response = await rawRequest(registry.host, 'GET', path);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
      expect(envelopeCode(response), path).not.toBeNull();
    }
    for (const method of ['PROPFIND', 'OPTIONS', 'TRACE']) {
      const response = await rawRequest(registry.host, method, '/v2/');
      expect(envelopeCode(response), method).not.toBeNull();
    }
    const unknown = await rawSocketExchange(registry.host, 'FROB /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(unknown).toMatch(/^HTTP\/1\.1 400 /);
    expect(unknown).toMatch(/content-type: application\/json/i);
    expect(unknown).toContain('"errors":[{"code":"UNSUPPORTED"');
    const badJson = await rawRequest(registry.host, 'POST', '/api/v1/builds/tool', { headers: { 'content-type': 'application/json' }, body: '{"not json' });
    expect(badJson.status).toBe(400);
    expect(envelopeCode(badJson)).not.toBeNull();
  });

  it('answers a chunked manifest PUT over 4 MiB with 413, not a reset (point 10)', async () => {
    const chunks = Array.from({ length: 80 }, () => Buffer.alloc(64 * 1024, 0x20));
    const response = await rawRequest(registry.host, 'PUT', '/v2/team/app/manifests/big', {
      headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'transfer-encoding': 'chunked' },
      body: chunks,
    });
    expect(response.status).toBe(413);
    expect(envelopeCode(response)).toBe('SIZE_INVALID');
  });

  it('writes one info line per request, probes at debug (point 10)', async () => {
    lines.length = 0;
    await rawRequest(registry.host, 'GET', '/v2/');
    await rawRequest(registry.host, 'GET', '/v2/nosuchthing/tags/list');
    await rawRequest(registry.host, 'GET', '/healthz');
    await rawRequest(registry.host, 'GET', '/readyz');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => [line.msg, line.url, line.status])).toEqual([
      // The anonymous ping meets the Bearer challenge (the token flow is on by default).
      ['request', '/v2/', 401],
      ['request', '/v2/nosuchthing/tags/list', 404],
    ]);
  });

  it('answers a manifest reference that is neither tag nor digest with 404 MANIFEST_UNKNOWN (point 12)', async () => {
    for (const reference of ['-not-a-tag', 'sha256:short', `${'x'.repeat(129)}`]) {
      const get = await rawRequest(registry.host, 'GET', `/v2/tool/manifests/${reference}`);
      expect(get.status, reference).toBe(404);
      expect(envelopeCode(get), reference).toBe('MANIFEST_UNKNOWN');
      expect((await rawRequest(registry.host, 'HEAD', `/v2/tool/manifests/${reference}`)).status, reference).toBe(404);
    }
  });

  it('serves referrers as exactly the OCI index media type (point 12)', async () => {
    const response = await rawRequest(registry.host, 'GET', `/v2/team/app/referrers/${digestOf('nothing')}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.oci.image.index.v1+json');
  });
});
