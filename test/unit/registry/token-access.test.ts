import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../../support/htpasswd.js';

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** The access control with Bearer tokens: each token allows only the actions it carries, on the repository it names. */
describe('Bearer tokens on the matched route', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildApp(
      parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile: await writeHtpasswd() } }),
      { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
    );
  });

  const token = async (scope: string, headers: Record<string, string> = {}): Promise<string> => {
    const response = await app.server.inject({ method: 'GET', url: `/token?service=stowage&scope=${encodeURIComponent(scope)}`, headers });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { token: string; access_token: string; expires_in: number; issued_at: string };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
    return body.token;
  };
  const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

  it('refuses wrong credentials at /token and another service', async () => {
    expect((await app.server.inject({ method: 'GET', url: '/token?service=stowage', headers: basic(TEST_USER, 'wrong') })).statusCode).toBe(401);
    expect((await app.server.inject({ method: 'GET', url: '/token?service=other' })).statusCode).toBe(400);
  });

  it('lets a user token push to its repository only, and an anonymous token only pull', async () => {
    const user = await token('repository:team/a:pull,push', basic(TEST_USER, TEST_PASSWORD));
    expect((await app.server.inject({ method: 'GET', url: '/v2/', headers: bearer(user) })).statusCode).toBe(200);
    expect((await app.server.inject({ method: 'POST', url: '/v2/team/a/blobs/uploads/', headers: bearer(user) })).statusCode).toBe(202);
    const elsewhere = await app.server.inject({ method: 'POST', url: '/v2/team/b/blobs/uploads/', headers: bearer(user) });
    expect(elsewhere.statusCode).toBe(401);
    expect(elsewhere.headers['www-authenticate']).toContain('scope="repository:team/b:pull,push",error="insufficient_scope"');
    const anonymous = await token('repository:team/a:pull,push');
    expect((await app.server.inject({ method: 'POST', url: '/v2/team/a/blobs/uploads/', headers: bearer(anonymous) })).statusCode).toBe(401);
    expect((await app.server.inject({ method: 'HEAD', url: `/v2/team/a/blobs/sha256:${'0'.repeat(64)}`, headers: bearer(anonymous) })).statusCode).toBe(404);
  });

  it('refuses a tampered or foreign token, while Basic stays accepted', async () => {
    const user = await token('repository:team/a:pull,push', basic(TEST_USER, TEST_PASSWORD));
    const [header, payload, signature] = user.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { access: Array<{ name: string }> };
    claims.access[0] = { ...claims.access[0], name: 'team/b' } as { name: string };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const refused = await app.server.inject({ method: 'POST', url: '/v2/team/b/blobs/uploads/', headers: bearer(forged) });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((await app.server.inject({ method: 'POST', url: '/v2/team/b/blobs/uploads/', headers: basic(TEST_USER, TEST_PASSWORD) })).statusCode).toBe(202);
  });
});
