import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { startRegistry, type RunningRegistry, EXAMPLE_PACKAGE_SET } from '../support/registry-server.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { Client, digestOf, makeImage } from '../conformance/client.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Send raw bytes and read the raw response (to cut a body short, which fetch cannot). */
function rawExchange(host: string, request: string, body: Buffer, closeAfterBody: boolean): Promise<string> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(request);
      socket.write(body);
      if (closeAfterBody) socket.end();
    });
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('end', () => resolve(response));
    socket.on('close', () => resolve(response));
    socket.on('error', reject);
    socket.setTimeout(20_000, () => socket.destroy(new Error('raw exchange timed out')));
  });
}

describe('bad pushes', () => {
  let registry: RunningRegistry;
  let htpasswd: string;
  let client: Client;
  beforeAll(async () => {
    htpasswd = await writeHtpasswd();
    registry = await startRegistry({ auth: { htpasswdFile: htpasswd } });
    client = new Client({ url: registry.url, username: TEST_USER, password: TEST_PASSWORD, namespace: 'bad/push' });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('refuses pushes without credentials or with a wrong password', async () => {
    const anonymous = await fetch(`${registry.url}/v2/bad/push/blobs/uploads/`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    // The Docker token flow: the challenge names the token endpoint and the push scope.
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+\/token",service="stowage",scope="repository:bad\/push:pull,push"/);
    const wrong = await fetch(`${registry.url}/v2/bad/push/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${TEST_USER}:nope`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNAUTHORIZED');
  });

  it('stores nothing from a truncated upload', async () => {
    const data = Buffer.alloc(64 * 1024, 9);
    const auth = Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64');
    const request =
      `POST /v2/bad/push/blobs/uploads/?digest=${digestOf(data)} HTTP/1.1\r\nHost: ${registry.host}\r\nAuthorization: Basic ${auth}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`;
    await rawExchange(registry.host, request, data.subarray(0, 1000), true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await client.request('HEAD', `/v2/bad/push/blobs/${digestOf(data)}`)).status).toBe(404);
    expect(await registry.app.server.inject({ method: 'GET', url: `/v2/bad/push/tags/list` }).then((response) => response.statusCode)).toBe(404);
  });

  it('stores nothing from a chunk shorter than its Content-Range', async () => {
    const start = await client.request('POST', '/v2/bad/push/blobs/uploads/');
    const short = await client.request('PATCH', client.location(start), {
      headers: { 'content-type': 'application/octet-stream', 'content-range': '0-199' },
      body: Buffer.alloc(100, 1),
    });
    expect(short.status).toBe(400);
    expect(short.errorCode()).toBe('BLOB_UPLOAD_INVALID');
    const status = await client.request('GET', client.location(start));
    expect(status.headers.get('range')).toBe('0-0');
  });

  it('refuses an oversized manifest with 413', async () => {
    const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, padding: 'x'.repeat(5 * 1024 * 1024) }));
    const response = await client.request('PUT', '/v2/bad/push/manifests/huge', { headers: { 'content-type': MANIFEST }, body: huge });
    expect(response.status).toBe(413);
    expect(response.errorCode()).toBe('SIZE_INVALID');
  });

  it('refuses manifests of an unknown media type or a mismatched digest', async () => {
    const image = makeImage('types');
    const wrongType = await client.request('PUT', '/v2/bad/push/manifests/t', { headers: { 'content-type': 'text/plain' }, body: image.manifest });
    expect(wrongType.status).toBe(400);
    expect(wrongType.errorCode()).toBe('MANIFEST_INVALID');
    for (const blob of [image.config, ...image.layers]) {
      await client.request('POST', `/v2/bad/push/blobs/uploads/?digest=${digestOf(blob)}`, { headers: { 'content-type': 'application/octet-stream' }, body: blob });
    }
    const mismatch = await client.request('PUT', `/v2/bad/push/manifests/${digestOf('other bytes')}`, { headers: { 'content-type': MANIFEST }, body: image.manifest });
    expect(mismatch.status).toBe(400);
    expect(mismatch.errorCode()).toBe('DIGEST_INVALID');
    expect((await client.request('GET', `/v2/bad/push/manifests/${digestOf(image.manifest)}`)).status).toBe(404);
  });

  it('keeps acknowledged manifests, tags and upload sessions across a restart', async () => {
    const image = makeImage('restart');
    for (const blob of [image.config, ...image.layers]) {
      await client.request('POST', `/v2/bad/keep/blobs/uploads/?digest=${digestOf(blob)}`, { headers: { 'content-type': 'application/octet-stream' }, body: blob });
    }
    expect((await client.request('PUT', '/v2/bad/keep/manifests/stable', { headers: { 'content-type': MANIFEST }, body: image.manifest })).status).toBe(201);
    const start = await client.request('POST', '/v2/bad/keep/blobs/uploads/');
    const part = Buffer.from('first half|');
    await client.request('PATCH', client.location(start), { headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${part.length - 1}` }, body: part });
    const uploadPath = new URL(client.location(start)).pathname;
    await registry.app.server.close();

    const restarted = await buildApp(
      parseConfig({ dataDir: registry.dataDir, logLevel: 'warn', auth: { htpasswdFile: htpasswd }, source: { kind: 'nix', packageSet: EXAMPLE_PACKAGE_SET } }),
      { env: process.env },
    );
    try {
      const auth = { authorization: `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}` };
      const manifest = await restarted.server.inject({ method: 'GET', url: '/v2/bad/keep/manifests/stable', headers: { accept: MANIFEST } });
      expect(manifest.statusCode).toBe(200);
      expect(manifest.rawPayload.equals(image.manifest)).toBe(true);
      const status = await restarted.server.inject({ method: 'GET', url: uploadPath, headers: auth });
      expect(status.statusCode).toBe(204);
      expect(status.headers.range).toBe(`0-${part.length - 1}`);
      const rest = Buffer.from('second half');
      const whole = Buffer.concat([part, rest]);
      const done = await restarted.server.inject({ method: 'PUT', url: `${uploadPath}?digest=${digestOf(whole)}`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: rest });
      expect(done.statusCode).toBe(201);
      const blob = await restarted.server.inject({ method: 'GET', url: `/v2/bad/keep/blobs/${digestOf(whole)}` });
      expect(blob.rawPayload.equals(whole)).toBe(true);
    } finally {
      await restarted.server.close();
    }
  });
});
