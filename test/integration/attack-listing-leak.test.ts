import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { basicAuth } from '../support/raw-http.js';
import { pushSmallImage } from '../support/push-image.js';

/**
 * A namespace private to its owner under auth.access (anonymous pulls off): another user is
 * refused its tags/list (403), so its names, tags and digests must not be listed elsewhere.
 */
describe('private namespaces are not listed to other users', () => {
  let registry: RunningRegistry;
  const alice = basicAuth('alice', 'pw-alice');
  const bob = basicAuth('bob', 'pw-bob');
  beforeAll(async () => {
    const work = await mkdtemp(join(tmpdir(), 'stowage-leak-'));
    const htpasswdFile = join(work, 'htpasswd');
    await writeFile(htpasswdFile, ['alice', 'bob'].map((user) => `${user}:${bcrypt.hashSync(`pw-${user}`, 4)}\n`).join(''));
    registry = await startRegistry(
      { auth: { htpasswdFile, anonymousPull: false, access: [{ repository: 'alice/**', users: ['alice'], actions: ['push'] }] } },
      { source: await FakePackageSource.create() },
    );
    await pushSmallImage(registry.url, 'alice/secret', 'v1', { authorization: alice, configBytes: 10, layerBytes: 10 });
  });
  afterAll(async () => {
    await registry?.close();
  });

  const get = async (path: string, authorization: string) => {
    const response = await fetch(`${registry.url}${path}`, { headers: { authorization } });
    return { status: response.status, text: await response.text() };
  };

  it('refuses bob the repository itself', async () => {
    expect((await get('/v2/alice/secret/tags/list', bob)).status).toBe(403);
  });

  it('leaves it out of the catalog bob reads', async () => {
    expect((await get('/v2/_catalog', alice)).text).toContain('alice/secret');
    expect((await get('/v2/_catalog', bob)).text).not.toContain('alice/secret');
  });

  it('shows bob neither its name nor its tags and digests in the web API', async () => {
    expect((await get('/api/v1/repositories', bob)).text).not.toContain('alice/secret');
    const view = await get('/api/v1/repositories/alice/secret', bob);
    expect(view.text).not.toContain('sha256:');
    expect([403, 404]).toContain(view.status);
    expect((await get('/api/v1/images/alice/secret', bob)).text).not.toContain('sha256:');
  });
});
