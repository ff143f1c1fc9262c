import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { startNginx, type RunningNginx } from '../support/nginx.js';
import { OCI_MANIFEST } from '../support/push-image.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { run } from '../support/commands.js';

/**
 * deploy/nginx/stowage.conf in front of a real stowage with `server.accelRedirectPrefix`:
 * stowage decides (credentials, repository, existence, ranges), nginx sends the file. nginx's
 * access log shows how many bytes came from stowage: none for a redirected blob.
 */
const basic = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;
const layer = randomBytes(3 * 1024 * 1024 + 5);
const layerDigest = sha256Digest(layer);
let registry: RunningRegistry;
let nginx: RunningNginx;
let layoutDir: string;

async function upload(blob: Buffer): Promise<void> {
  const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${sha256Digest(blob)}`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/octet-stream' }, body: blob });
  expect(response.status).toBe(201);
}

/** The access-log line of the last request for `uri`: [status, bytes sent, bytes from stowage, accel URI]. */
async function logged(method: string, uri: string): Promise<string[]> {
  const line = (await nginx.accessLog()).filter((entry) => entry.startsWith(`${method} ${uri} `)).at(-1);
  expect(line, `no access log line for ${method} ${uri}`).toBeDefined();
  return (line as string).split(' ').slice(2);
}

beforeAll(async () => {
  registry = await startRegistry(
    { auth: { htpasswdFile: await writeHtpasswd(), anonymousPull: false }, server: { accelRedirectPrefix: '/_stowage_blobs/', trustProxy: ['loopback'] } },
    { source: await FakePackageSource.create() },
  );
  // nginx's workers run as nobody; the data directory is made private by mkdtemp.
  await chmod(registry.dataDir, 0o755);
  nginx = await startNginx(registry.host, join(registry.dataDir, 'storage', 'blobs'));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} }));
  await upload(config);
  await upload(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  const put = await fetch(`${registry.url}/v2/team/app/manifests/v1`, { method: 'PUT', headers: { authorization: basic, 'content-type': OCI_MANIFEST }, body: manifest });
  expect(put.status).toBe(201);
  layoutDir = await mkdtemp(join(tmpdir(), 'stowage-nginx-pull-'));
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  await registry?.close();
  if (layoutDir) await rm(layoutDir, { recursive: true, force: true });
});

describe('nginx in front, sending blob files (X-Accel-Redirect)', () => {
  it('skopeo pulls through nginx; the layer bytes come from nginx, none from stowage', async () => {
    await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--src-creds', `${TEST_USER}:${TEST_PASSWORD}`, `docker://${nginx.host}/team/app:v1`, `oci:${layoutDir}:v1`]);
    const pulled = await readFile(join(layoutDir, 'blobs', 'sha256', layerDigest.slice(7)));
    expect(pulled.equals(layer)).toBe(true);
    const [status, sent, fromStowage, accel] = await logged('GET', `/v2/team/app/blobs/${layerDigest}`);
    expect(status).toBe('200');
    expect(Number(sent)).toBe(layer.length);
    expect(fromStowage).toBe('0');
    expect(accel).toBe(`/_stowage_blobs/sha256/${layerDigest.slice(7, 9)}/${layerDigest.slice(7)}`);
  });

  it('answers a range from the file, with the registry headers', async () => {
    const response = await fetch(`${nginx.url}/v2/team/app/blobs/${layerDigest}`, { headers: { authorization: basic, range: 'bytes=10-19' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 10-19/${layer.length}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(layer.subarray(10, 20))).toBe(true);
    expect(response.headers.get('docker-content-digest')).toBe(layerDigest);
    expect(response.headers.get('etag')).toBe(`"${layerDigest}"`);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('x-accel-redirect')).toBeNull();
    expect((await logged('GET', `/v2/team/app/blobs/${layerDigest}`)).slice(0, 3)).toEqual(['206', '10', '0']);
    // The whole blob says once that ranges are taken.
    const whole = await fetch(`${nginx.url}/v2/team/app/blobs/${layerDigest}`, { headers: { authorization: basic } });
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await whole.arrayBuffer()).equals(layer)).toBe(true);
    // Outside the blob: stowage's own 416 and OCI body.
    const outside = await fetch(`${nginx.url}/v2/team/app/blobs/${layerDigest}`, { headers: { authorization: basic, range: `bytes=${layer.length}-` } });
    expect(outside.status).toBe(416);
    expect(((await outside.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('RANGE_INVALID');
  });

  it('answers HEAD and If-None-Match itself', async () => {
    const head = await fetch(`${nginx.url}/v2/team/app/blobs/${layerDigest}`, { method: 'HEAD', headers: { authorization: basic } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(layer.length));
    expect(head.headers.get('docker-content-digest')).toBe(layerDigest);
    const cached = await fetch(`${nginx.url}/v2/team/app/blobs/${layerDigest}`, { headers: { authorization: basic, 'if-none-match': `"${layerDigest}"` } });
    expect(cached.status).toBe(304);
  });

  it('keeps OCI error bodies, and refuses anonymous callers when anonymous pulls are off', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    const unknown = await fetch(`${nginx.url}/v2/team/app/blobs/${missing}`, { headers: { authorization: basic } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('BLOB_UNKNOWN');
    const anonymous = await fetch(`${nginx.url}/v2/team/app/blobs/${layerDigest}`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNAUTHORIZED');
    expect((await logged('GET', `/v2/team/app/blobs/${layerDigest}`))[0]).toBe('401');
    // The internal location is not reachable by its URI.
    const internal = await fetch(`${nginx.url}/_stowage_blobs/sha256/${layerDigest.slice(7, 9)}/${layerDigest.slice(7)}`);
    expect(internal.status).toBe(404);
    await internal.arrayBuffer();
  });

  it('sends the bytes itself to a client that reaches it directly', async () => {
    const direct = await fetch(`${registry.url}/v2/team/app/blobs/${layerDigest}`, { headers: { authorization: basic } });
    expect(direct.headers.get('x-accel-redirect')).toBeNull();
    expect(Buffer.from(await direct.arrayBuffer()).equals(layer)).toBe(true);
  });
});
