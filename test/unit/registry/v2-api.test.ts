import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let source: FakePackageSource;
let blobs: MemoryBlobStore;

async function makeApp(config: ConfigInput = {}): Promise<App> {
  return buildApp(
    parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'] }, ...config }),
    { source, blobs, metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
}

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

beforeEach(async () => {
  source = await FakePackageSource.create();
  blobs = new MemoryBlobStore();
});

describe('GET /v2/', () => {
  it('answers an anonymous ping with the Bearer challenge and the API version header', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/v2/' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/[^"]+\/token",service="stowage"$/);
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers 200 with the API version header when tokens are off (Basic only)', async () => {
    const { server } = await makeApp({ auth: { token: { enabled: false } } });
    const response = await server.inject({ method: 'GET', url: '/v2/' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });
});

describe('manifests', () => {
  it('serves an OCI manifest by tag with digest, type, length and ETag', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/v2/shell/tool/manifests/latest' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(OCI_MANIFEST);
    const digest = sha256(response.rawPayload);
    expect(response.headers['docker-content-digest']).toBe(digest);
    expect(response.headers.etag).toBe(`"${digest}"`);
    expect(Number(response.headers['content-length'])).toBe(response.rawPayload.length);
    const manifest = response.json() as { mediaType: string; config: { mediaType: string }; layers: Array<{ mediaType: string }> };
    expect(manifest.mediaType).toBe(OCI_MANIFEST);
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.layers.every((layer) => layer.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip')).toBe(true);
  });

  it('serves Docker schema 2 when only it is accepted, with the same layers', async () => {
    const { server } = await makeApp();
    const oci = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    const docker = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: { accept: DOCKER_MANIFEST } });
    expect(docker.headers['content-type']).toBe(DOCKER_MANIFEST);
    const layerDigests = (body: string) => (JSON.parse(body) as { layers: Array<{ digest: string }> }).layers.map((layer) => layer.digest);
    expect(layerDigests(docker.body)).toEqual(layerDigests(oci.body));
    expect(docker.headers['docker-content-digest']).not.toBe(oci.headers['docker-content-digest']);
  });

  it('answers HEAD with the headers of GET and no body, building once', async () => {
    const { server } = await makeApp();
    const head = await server.inject({ method: 'HEAD', url: '/v2/tool/manifests/latest' });
    const get = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['docker-content-digest']).toBe(get.headers['docker-content-digest']);
    expect(source.resolveCalls).toBe(1);
  });

  it('serves manifests by digest under their own name only', async () => {
    const { server } = await makeApp();
    const byTag = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    const digest = String(byTag.headers['docker-content-digest']);
    const byDigest = await server.inject({ method: 'GET', url: `/v2/tool/manifests/${digest}` });
    expect(byDigest.statusCode).toBe(200);
    expect(byDigest.rawPayload.equals(byTag.rawPayload)).toBe(true);
    expect(byDigest.headers['content-type']).toBe(OCI_MANIFEST);
    const other = await server.inject({ method: 'GET', url: `/v2/extra/manifests/${digest}` });
    expect(other.statusCode).toBe(404);
    expect(other.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
  });

  it('answers 304 when the ETag matches', async () => {
    const { server } = await makeApp();
    const first = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    const second = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(second.statusCode).toBe(304);
    const any = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: { 'if-none-match': '*' } });
    expect(any.statusCode).toBe(304);
    const other = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: { 'if-none-match': '"sha256:0000", W/"x"' } });
    expect(other.statusCode).toBe(200);
  });

  it('builds an image once for concurrent requests', async () => {
    const { server } = await makeApp();
    const responses = await Promise.all(Array.from({ length: 6 }, () => server.inject({ method: 'GET', url: '/v2/extra/tool/manifests/latest' })));
    expect(new Set(responses.map((response) => response.headers['docker-content-digest'])).size).toBe(1);
    expect(source.resolveCalls).toBe(1);
  });

  it('uses zstd layers with OCI manifests when configured, and refuses Docker-only clients', async () => {
    const { server } = await makeApp({ image: { compression: 'zstd' } });
    const oci = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    expect((oci.json() as { layers: Array<{ mediaType: string }> }).layers[0]?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    const docker = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: { accept: DOCKER_MANIFEST } });
    expect(docker.statusCode).toBe(404);
    expect(docker.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
  });
});

describe('blobs', () => {
  it('serves blobs with digest headers, ranges and ETags', async () => {
    const { server } = await makeApp();
    const manifest = (await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' })).json() as { config: { digest: string; size: number } };
    const url = `/v2/tool/blobs/${manifest.config.digest}`;
    const whole = await server.inject({ method: 'GET', url });
    expect(whole.statusCode).toBe(200);
    expect(sha256(whole.rawPayload)).toBe(manifest.config.digest);
    expect(whole.headers['docker-content-digest']).toBe(manifest.config.digest);
    expect(Number(whole.headers['content-length'])).toBe(manifest.config.size);
    // An anonymous blob HEAD meets the Bearer challenge (pushers ask it); with an anonymous token it is answered.
    expect((await server.inject({ method: 'HEAD', url })).statusCode).toBe(401);
    const { token } = (await server.inject({ method: 'GET', url: '/token?service=stowage&scope=repository:tool:pull' })).json() as { token: string };
    const head = await server.inject({ method: 'HEAD', url, headers: { authorization: `Bearer ${token}` } });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBe(manifest.config.size);
    const part = await server.inject({ method: 'GET', url, headers: { range: 'bytes=1-4' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1-4/${manifest.config.size}`);
    expect(part.rawPayload.equals(whole.rawPayload.subarray(1, 5))).toBe(true);
    const cached = await server.inject({ method: 'GET', url, headers: { 'if-none-match': `"${manifest.config.digest}"` } });
    expect(cached.statusCode).toBe(304);
  });
});

describe('tags/list', () => {
  it('lists built revisions with n/last pagination and a Link header', async () => {
    const { server } = await makeApp();
    for (const tag of ['c', 'a', 'b']) await server.inject({ method: 'GET', url: `/v2/tool/manifests/${tag}` });
    expect((await server.inject({ method: 'GET', url: '/v2/tool/tags/list' })).json()).toEqual({ name: 'tool', tags: ['a', 'b', 'c'] });
    const page = await server.inject({ method: 'GET', url: '/v2/tool/tags/list?n=2' });
    expect(page.json()).toEqual({ name: 'tool', tags: ['a', 'b'] });
    expect(page.headers.link).toBe('</v2/tool/tags/list?n=2&last=b>; rel="next"');
    expect((await server.inject({ method: 'GET', url: '/v2/tool/tags/list?n=2&last=b' })).json()).toEqual({ name: 'tool', tags: ['c'] });
  });

  it('answers 404 NAME_UNKNOWN for images never built', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/v2/tool/tags/list' });
    expect(response.statusCode).toBe(404);
    expect(response.json().errors[0].code).toBe('NAME_UNKNOWN');
  });
});

describe('errors', () => {
  it('maps a failed build to 500 with the log tail, and does not cache it', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'GET', url: '/v2/broken/manifests/latest' });
    expect(response.statusCode).toBe(500);
    expect(response.json().errors[0]).toMatchObject({ code: 'UNKNOWN', detail: { log: expect.stringContaining('broken.c:1: oops') } });
    await server.inject({ method: 'GET', url: '/v2/broken/manifests/latest' });
    expect(source.resolveCalls).toBe(2);
  });

  it('answers 429 with Retry-After when the build queue is full', async () => {
    const { server } = await makeApp({ builds: { concurrency: 1, maxQueued: 0 } });
    const slow = server.inject({ method: 'GET', url: '/v2/slow/manifests/latest' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.json().errors[0].code).toBe('TOOMANYREQUESTS');
    source.release();
    expect((await slow).statusCode).toBe(200);
  });

  it('answers 503 when a build runs past its time limit', async () => {
    const { server } = await makeApp({ builds: { timeoutMs: 100 } });
    const response = await server.inject({ method: 'GET', url: '/v2/slow/manifests/latest' });
    expect(response.statusCode).toBe(503);
    expect(response.json().errors[0].code).toBe('UNAVAILABLE');
  });

  it('refuses pushes without credentials, with a challenge', async () => {
    const { server } = await makeApp();
    const response = await server.inject({ method: 'POST', url: '/v2/tool/blobs/uploads/' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+\/token",service="stowage",scope="repository:tool:pull,push"$/);
    expect(response.json().errors[0].code).toBe('UNAUTHORIZED');
    const basicOnly = await (await makeApp({ auth: { token: { enabled: false } } })).server.inject({ method: 'POST', url: '/v2/tool/blobs/uploads/' });
    expect(basicOnly.headers['www-authenticate']).toBe('Basic realm="stowage", charset="UTF-8"');
  });

  it('hides unexpected failures behind 500 UNKNOWN', async () => {
    const { server } = await makeApp();
    source.resolve = async () => {
      throw new TypeError('secret internal detail');
    };
    const response = await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ errors: [{ code: 'UNKNOWN', message: 'internal server error' }] });
  });
});
