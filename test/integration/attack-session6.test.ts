import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { basicAuth } from '../support/raw-http.js';
import { OCI_INDEX, OCI_MANIFEST, pushSmallImage, smallImage } from '../support/push-image.js';
import { sha256Digest } from '../../src/oci/digest.js';

/**
 * Findings of the sixth attack session, each against a real in-process registry over HTTP.
 */

async function htpasswdOf(users: readonly string[]): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'stowage-attack6-')), 'htpasswd');
  await writeFile(file, users.map((user) => `${user}:${bcrypt.hashSync(`pw-${user}`, 4)}\n`).join(''));
  return file;
}

const alice = basicAuth('alice', 'pw-alice');
const bob = basicAuth('bob', 'pw-bob');

/** A registry for the describe block it is called in: pushes under `team/`, alice signs in. */
function teamRegistry(): { readonly url: string } {
  let registry: RunningRegistry | undefined;
  beforeAll(async () => {
    registry = await startRegistry({ push: { namespaces: ['team'] }, auth: { htpasswdFile: await htpasswdOf(['alice']) } }, { source: await FakePackageSource.create() });
  });
  afterAll(async () => {
    await registry?.close();
  });
  return {
    get url(): string {
      if (registry === undefined) throw new Error('the registry has not started');
      return registry.url;
    },
  };
}

/**
 * A rule makes every image holding `extra` private to alice (anonymous pulls off). The catalog
 * and the UI's image list leave those names out for bob; the explorer of an image bob may pull
 * must not name them either among the images that share its layers.
 */
describe('the image explorer names only shared images the caller may pull', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry(
      { auth: { htpasswdFile: await htpasswdOf(['alice', 'bob']), anonymousPull: false, access: [{ repository: '**/extra/**', users: ['alice'], actions: ['pull'] }] } },
      { source: await FakePackageSource.create() },
    );
    // `tool` and `extra/tool` share the layer of their common dependency.
    for (const name of ['tool', 'extra/tool']) {
      const response = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { authorization: alice } });
      expect(response.status).toBe(200);
    }
  });
  afterAll(async () => {
    await registry?.close();
  });

  const sharedWith = async (authorization: string): Promise<string[]> => {
    const response = await fetch(`${registry.url}/api/v1/images/tool`, { headers: { authorization } });
    expect(response.status).toBe(200);
    const view = (await response.json()) as { platforms: Array<{ layers: Array<{ sharedWith: string[] }> }> };
    return view.platforms.flatMap((platform) => platform.layers.flatMap((layer) => layer.sharedWith));
  };

  it('shows alice the private image sharing a layer, and bob nothing of it', async () => {
    expect(await sharedWith(alice)).toContain('extra/tool:latest');
    expect((await fetch(`${registry.url}/v2/extra/tool/manifests/latest`, { headers: { authorization: bob } })).status).toBe(403);
    expect(await sharedWith(bob)).not.toContain('extra/tool:latest');
  });
});

/**
 * `HEAD` of the listings (`tags/list`, `_catalog`, `referrers`) answered 404 "no such endpoint",
 * as though the resource did not exist, while its GET answered 200: a HEAD must say what the GET
 * would (RFC 9110), without the body.
 */
describe('HEAD of a listing answers as its GET', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry(
      { push: { namespaces: ['team'] }, auth: { htpasswdFile: await htpasswdOf(['alice']), anonymousPull: false } },
      { source: await FakePackageSource.create() },
    );
    const pushed = await pushSmallImage(registry.url, 'team/app', 'v1', { authorization: alice, configBytes: 10, layerBytes: 10 });
    subject = pushed.digest;
  });
  afterAll(async () => {
    await registry?.close();
  });
  let subject = '';

  it.each(['/v2/team/app/tags/list', '/v2/_catalog', '/v2/team/app/referrers/<subject>'])('HEAD %s', async (template) => {
    const url = `${registry.url}${template.replace('<subject>', subject)}`;
    const get = await fetch(url, { headers: { authorization: alice } });
    const body = Buffer.from(await get.arrayBuffer());
    const head = await fetch(url, { method: 'HEAD', headers: { authorization: alice } });
    expect(head.status).toBe(get.status);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('content-length')).toBe(String(body.length));
    expect(head.headers.get('link')).toBe(get.headers.get('link'));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('still refuses a HEAD the GET would refuse', async () => {
    expect((await fetch(`${registry.url}/v2/team/app/tags/list`, { method: 'HEAD' })).status).toBe(401);
  });
});

/**
 * Blobs are stored by sha256. A chunked upload finished with the (correct) sha512 of its bytes
 * was told its content "does not match", and the upload was ended: its bytes lost. It must be
 * refused as a digest this registry does not store, before the upload ends, so the client can
 * finish it with the sha256; a monolithic upload with a sha512 is refused the same way.
 */
describe('uploads named by a sha512 digest', () => {
  const team = teamRegistry();
  const bytes = Buffer.from('hello, sha512');
  const sha512 = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
  const request = (method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${team.url}${path}`, { method, headers: { authorization: alice, 'content-type': 'application/octet-stream', ...headers }, ...(body ? { body } : {}) });
  const errorOf = async (response: Response) => ((await response.json()) as { errors: Array<{ code: string; message: string }> }).errors[0];

  it('refuses to finish a chunked upload with it, and keeps the upload for its sha256', async () => {
    const started = await request('POST', '/v2/team/app/blobs/uploads/');
    const location = String(started.headers.get('location'));
    expect((await request('PATCH', location, bytes, { 'content-range': `0-${bytes.length - 1}` })).status).toBe(202);

    const refused = await request('PUT', `${location}?digest=${sha512}`);
    expect(refused.status).toBe(400);
    const error = await errorOf(refused);
    expect(error?.code).toBe('DIGEST_INVALID');
    expect(error?.message).toContain('sha256');
    expect(error?.message).not.toContain('does not match');

    const status = await request('GET', location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe(`0-${bytes.length - 1}`);
    expect((await request('PUT', `${location}?digest=${sha256Digest(bytes)}`)).status).toBe(201);
  });

  it('refuses a monolithic upload with it, storing nothing', async () => {
    const refused = await request('POST', `/v2/team/app/blobs/uploads/?digest=${sha512}`, bytes);
    expect(refused.status).toBe(400);
    expect((await errorOf(refused))?.message).not.toContain('does not match');
    expect((await request('HEAD', `/v2/team/app/blobs/${sha512}`)).status).toBe(404);
  });
});

/**
 * Manifest validation checks the fields of the manifest's own kind; a client may add others of
 * any shape. An image manifest carrying `"manifests": [null]`, or an index carrying
 * `"layers": 5`, made the repository's page (`/api/v1/repositories/<name>`, `/api/v1/images/<name>`)
 * answer 500 for every user of the repository.
 */
describe('odd fields of pushed manifests do not break the repository page', () => {
  const team = teamRegistry();
  const put = async (tag: string, manifest: object, mediaType: string): Promise<string> => {
    const body = Buffer.from(JSON.stringify(manifest));
    const response = await fetch(`${team.url}/v2/team/app/manifests/${tag}`, { method: 'PUT', headers: { authorization: alice, 'content-type': mediaType }, body });
    expect(response.status).toBe(201);
    return sha256Digest(body);
  };

  it('shows every tag, with what can be read of it', async () => {
    const { blobs: [config, layer] } = smallImage({ configBytes: 10, layerBytes: 10 });
    await pushSmallImage(team.url, 'team/app', 'v1', { authorization: alice, configBytes: 10, layerBytes: 10 });
    const image = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Digest(layer), size: layer.length }],
    };
    const odd = await put('odd', { ...image, manifests: [null, 5, 'x'] }, OCI_MANIFEST);
    const oddIndex = await put('odd-index', { schemaVersion: 2, mediaType: OCI_INDEX, layers: 5, config: 7, manifests: [{ mediaType: OCI_MANIFEST, digest: odd, size: 1, platform: 3 }] }, OCI_INDEX);
    await put('nested', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_INDEX, digest: oddIndex, size: 1 }] }, OCI_INDEX);

    for (const path of ['/api/v1/repositories/team/app', '/api/v1/images/team/app']) {
      const response = await fetch(`${team.url}${path}`, { headers: { authorization: alice } });
      expect(response.status).toBe(200);
      const view = (await response.json()) as { tags: Array<{ tag: string; kind: string; layers: number | null; size: number }> };
      const byTag = Object.fromEntries(view.tags.map((tag) => [tag.tag, tag]));
      expect(Object.keys(byTag).sort()).toEqual(['nested', 'odd', 'odd-index', 'v1']);
      expect(byTag.odd).toMatchObject({ kind: 'image', layers: 1, size: config.length + layer.length });
      expect(byTag['odd-index']).toMatchObject({ kind: 'index', size: config.length + layer.length });
      expect(byTag.nested).toMatchObject({ kind: 'index', size: 0 });
    }
  });
});

/** A chunk longer than its Content-Range was refused as one that "ended after 3 of 2 bytes". */
describe('a chunk longer than its Content-Range', () => {
  const team = teamRegistry();

  it('is refused saying it is longer, and leaves the upload as it was', async () => {
    const headers = { authorization: alice, 'content-type': 'application/octet-stream' };
    const location = String((await fetch(`${team.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers })).headers.get('location'));
    const refused = await fetch(`${team.url}${location}`, { method: 'PATCH', headers: { ...headers, 'content-range': '0-1' }, body: Buffer.from('abc') });
    expect(refused.status).toBe(400);
    const error = ((await refused.json()) as { errors: Array<{ code: string; message: string; detail: unknown }> }).errors[0];
    expect(error).toMatchObject({ code: 'BLOB_UPLOAD_INVALID', detail: { expected: 2, received: 3 } });
    expect(error?.message).toBe('the body held 3 bytes, more than the 2 declared');
    expect((await fetch(`${team.url}${location}`, { headers })).headers.get('range')).toBe('0-0');
  });
});

/**
 * One package-list image has many spellings (`tool/extra`, `tool/extra/tool`, `gzip/extra/tool`
 * with gzip the default). A rule making `extra/tool` private to alice held only for that exact
 * spelling: bob pulled the same image, digest for digest, under any other.
 */
describe('a rule on a package-list image holds under every spelling of it', () => {
  let registry: RunningRegistry;
  let layer = '';
  beforeAll(async () => {
    registry = await startRegistry(
      {
        push: { namespaces: ['team'] },
        auth: {
          htpasswdFile: await htpasswdOf(['alice', 'bob']),
          anonymousPull: false,
          access: [
            { repository: 'extra/tool', users: ['alice'], actions: ['pull'] },
            { repository: 'team/**', users: ['*'], actions: ['push'] },
            // The canonical spelling of the pushed name team/app: pushed names are taken as spelled.
            { repository: 'app/team', users: ['alice'], actions: ['pull'] },
          ],
        },
      },
      { source: await FakePackageSource.create() },
    );
    const built = await fetch(`${registry.url}/v2/extra/tool/manifests/latest`, { headers: { authorization: alice, accept: OCI_MANIFEST } });
    expect(built.status).toBe(200);
    layer = ((await built.json()) as { layers: Array<{ digest: string }> }).layers[0]?.digest ?? '';
    await pushSmallImage(registry.url, 'team/app', 'v1', { authorization: bob, configBytes: 10, layerBytes: 10 });
  });
  afterAll(async () => {
    await registry?.close();
  });
  const status = async (path: string, authorization: string, method = 'GET') => (await fetch(`${registry.url}${path}`, { method, headers: { authorization } })).status;

  it('refuses bob the image under other spellings, on the API and in the UI', async () => {
    for (const name of ['extra/tool', 'tool/extra', 'tool/extra/tool', 'gzip/extra/tool', 'amd64/tool/extra']) {
      expect(await status(`/v2/${name}/manifests/latest`, bob), name).toBe(403);
      expect(await status(`/v2/${name}/manifests/latest`, alice), name).toBe(200);
      expect(await status(`/v2/${name}/blobs/${layer}`, bob), name).toBe(403);
      expect(await status(`/v2/${name}/tags/list`, bob), name).toBe(403);
      expect(await status(`/v2/${name}/referrers/${layer}`, bob), name).toBe(403);
      expect(await status(`/api/v1/images/${name}`, bob), name).toBe(403);
      expect(await status(`/api/v1/builds/${name}`, bob, 'POST'), name).toBe(403);
    }
    expect(await status('/v2/tool/manifests/latest', bob)).toBe(200);
  });

  it('mounts nothing from another spelling, and lists no spelling of it to bob', async () => {
    const mount = await fetch(`${registry.url}/v2/team/app/blobs/uploads/?mount=${layer}&from=tool/extra`, { method: 'POST', headers: { authorization: bob } });
    expect(mount.status).toBe(202);
    const catalog = (await (await fetch(`${registry.url}/v2/_catalog`, { headers: { authorization: bob } })).json()) as { repositories: string[] };
    expect(catalog.repositories.filter((name) => name.includes('extra'))).toEqual([]);
    const images = (await (await fetch(`${registry.url}/api/v1/images`, { headers: { authorization: bob } })).json()) as { images: string[] };
    expect(images.images.filter((name) => name.includes('extra'))).toEqual([]);
  });

  it('takes a pushed repository as spelled', async () => {
    expect(await status('/v2/team/app/manifests/v1', bob)).toBe(200);
    expect(await status('/v2/team/app/tags/list', bob)).toBe(200);
  });
});
