import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../support/registry-server.js';

interface ErrorBody {
  errors: Array<{ code: string; message: string; detail?: Record<string, unknown> }>;
}

/** Every bad request gets its status and an OCI error body, quickly: none may hang. */
async function request(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: ErrorBody | null }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  if (text !== '') expect(response.headers.get('content-type')).toContain('application/json');
  return { status: response.status, headers: response.headers, body: text === '' ? null : (JSON.parse(text) as ErrorBody) };
}

/** GET with the path sent exactly as given (fetch would resolve dot segments first). */
function rawGet(host: string, path: string): Promise<{ status: number; body: ErrorBody | null }> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port: Number(port), path, method: 'GET', timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, body: text === '' ? null : (JSON.parse(text) as ErrorBody) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function expectError(result: { status: number; body: ErrorBody | null }, status: number, code: string): ErrorBody['errors'][number] {
  expect(result.status).toBe(status);
  const error = result.body?.errors[0];
  expect(error?.code).toBe(code);
  expect(error?.message.length).toBeGreaterThan(0);
  return error as ErrorBody['errors'][number];
}

describe('bad input through the HTTP API', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('names every unknown package with 404 MANIFEST_UNKNOWN', async () => {
    const error = expectError(await request(`${registry.url}/v2/hello/nosuchthing/alsomissing/manifests/latest`), 404, 'MANIFEST_UNKNOWN');
    expect(error.detail?.packages).toEqual(['alsomissing', 'nosuchthing']);
    expect(error.message).toContain('nosuchthing');
  });

  it.each([
    ['../etc', '/v2/../etc/manifests/latest'],
    ['upper case', '/v2/Hello/manifests/latest'],
    ['an empty component', '/v2/shell//hello/manifests/latest'],
    ['an attribute starting with a digit', '/v2/9lives/manifests/latest'],
    ['a thousand packages', `/v2/${Array.from({ length: 1000 }, (_, i) => `p${i}`).join('/')}/manifests/latest`],
  ])('refuses %s with 400 NAME_INVALID', async (_what, path) => {
    const result = await request(`${registry.url}${path}`);
    // fetch normalises "/v2/../etc" to "/etc": the registry must still answer in the envelope.
    if (path.includes('..')) expect([400, 404]).toContain(result.status);
    else expectError(result, 400, 'NAME_INVALID');
    expect(result.body?.errors).toHaveLength(1);
  });

  it('refuses a raw ../etc, as a client that does not normalise paths sends it', async () => {
    for (const path of ['/v2/../etc/manifests/latest', '/v2/%2E%2E/etc/manifests/latest', '/v2/shell/%2E%2E/manifests/latest']) {
      expectError(await rawGet(registry.host, path), 400, 'NAME_INVALID');
    }
  });

  it('refuses a tag that names no revision', async () => {
    const error = expectError(await request(`${registry.url}/v2/hello/manifests/v1.0`), 404, 'MANIFEST_UNKNOWN');
    expect(error.message).toContain('v1.0');
  });

  it('refuses malformed digests with 400 DIGEST_INVALID', async () => {
    expectError(await request(`${registry.url}/v2/hello/blobs/sha256:1234`), 400, 'DIGEST_INVALID');
    expectError(await request(`${registry.url}/v2/hello/blobs/md5:${'a'.repeat(32)}`), 400, 'DIGEST_INVALID');
    // A manifest reference that is neither tag nor digest names no manifest (the spec: 404).
    expectError(await request(`${registry.url}/v2/hello/manifests/sha256:zz`), 404, 'MANIFEST_UNKNOWN');
  });

  it('answers HEAD of a missing blob with 404 and no body', async () => {
    // An anonymous blob HEAD meets the Bearer challenge (pushers ask it); clients then come with an anonymous token.
    const { token } = (await (await fetch(`${registry.url}/token?service=stowage&scope=repository:hello:pull`)).json()) as { token: string };
    const result = await request(`${registry.url}/v2/hello/blobs/sha256:${'0'.repeat(64)}`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
    expect(result.status).toBe(404);
    expect(result.body).toBeNull();
    expectError(await request(`${registry.url}/v2/hello/blobs/sha256:${'0'.repeat(64)}`), 404, 'BLOB_UNKNOWN');
  });

  it('answers a Range past the end with 416 and the blob size', async () => {
    const manifest = await fetch(`${registry.url}/v2/hello/manifests/latest`);
    const layer = ((await manifest.json()) as { layers: Array<{ digest: string; size: number }> }).layers[0];
    expect(layer).toBeDefined();
    const url = `${registry.url}/v2/hello/blobs/${layer?.digest}`;
    const result = await request(url, { headers: { range: `bytes=${layer?.size}-` } });
    expectError(result, 416, 'RANGE_INVALID');
    expect(result.headers.get('content-range')).toBe(`bytes */${layer?.size}`);
    const partial = await fetch(url, { headers: { range: 'bytes=0-9' } });
    expect(partial.status).toBe(206);
    expect((await partial.arrayBuffer()).byteLength).toBe(10);
  });

  it('answers unknown routes with 404 in the envelope', async () => {
    expectError(await request(`${registry.url}/nothing-here`), 404, 'NAME_UNKNOWN');
    expectError(await request(`${registry.url}/v2/hello/frobnicate`), 404, 'NAME_UNKNOWN');
  });
});

describe('a failing build', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ source: { packageSet: join(REPO_ROOT, 'test/fixtures/failing-pkgs') } });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('answers 500 with the tail of the Nix log, and nothing is cached', async () => {
    const url = `${registry.url}/v2/broken/fine/manifests/latest`;
    const error = expectError(await request(url), 500, 'UNKNOWN');
    expect(error.message).toContain('image build failed');
    expect(String(error.detail?.log)).toContain('expected something marvellous');
    const again = expectError(await request(url), 500, 'UNKNOWN');
    expect(String(again.detail?.log)).toContain('expected something marvellous');
  });

  it('still builds the images that do not need the broken package', async () => {
    const response = await fetch(`${registry.url}/v2/fine/manifests/latest`);
    expect(response.status).toBe(200);
  });
});
