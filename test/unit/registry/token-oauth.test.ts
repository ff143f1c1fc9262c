import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { TokenSigner } from '../../../src/auth/token-signer.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

interface TokenAnswer {
  access_token: string;
  scope: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let dir: string;
let keyFile: string;
const htpasswd = async (name: string, entries: Record<string, string>): Promise<string> => {
  const file = join(dir, name);
  await writeFile(file, Object.entries(entries).map(([user, password]) => `${user}:${bcrypt.hashSync(password, 4)}\n`).join(''));
  return file;
};
/** An app with the shared signing key, as another replica or a restart with a new htpasswd file would be. */
const appWith = async (htpasswdFile: string): Promise<App> =>
  buildApp(parseConfig({ dataDir: await mkdtemp(join(dir, 'data-')), source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile, token: { keyFile } } }), {
    source: await FakePackageSource.create(),
    blobs: new MemoryBlobStore(),
    metadata: new MemoryMetadataStore(),
    logger: pino({ level: 'silent' }),
  });
const post = (app: App, fields: Record<string, string>, headers: Record<string, string> = FORM) => app.server.inject({ method: 'POST', url: '/token', headers, payload: new URLSearchParams(fields).toString() });
const PASSWORD_GRANT = { grant_type: 'password', username: 'alice', password: 'alice-pw', service: 'stowage', client_id: 'test-client' };

describe('POST /token (OAuth2 form)', () => {
  let app: App;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-oauth-'));
    keyFile = join(dir, 'key.pem');
    await writeFile(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    app = await appWith(await htpasswd('users', { alice: 'alice-pw', bob: 'bob-pw' }));
  });

  it('issues an access token for a password grant, and a refresh token with access_type=offline', async () => {
    const online = await post(app, { ...PASSWORD_GRANT, scope: 'repository:team/app:pull,push' });
    expect(online.statusCode).toBe(200);
    const body = online.json() as TokenAnswer;
    expect(body).toMatchObject({ scope: 'repository:team/app:pull,push', expires_in: 300 });
    expect(body.refresh_token).toBeUndefined();
    expect((await app.server.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/', headers: bearer(body.access_token) })).statusCode).toBe(202);

    const offline = (await post(app, { ...PASSWORD_GRANT, access_type: 'offline' })).json() as TokenAnswer;
    expect(offline.scope).toBe('');
    expect(typeof offline.refresh_token).toBe('string');
    // A refresh token is no access token.
    const misuse = await app.server.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/', headers: bearer(offline.refresh_token ?? '') });
    expect(misuse.statusCode).toBe(401);
    expect(misuse.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('exchanges a refresh token for access tokens of any scope, answering with the same refresh token', async () => {
    const { refresh_token: refresh } = (await post(app, { ...PASSWORD_GRANT, access_type: 'offline' })).json() as TokenAnswer;
    const refreshed = await post(app, { grant_type: 'refresh_token', refresh_token: refresh ?? '', service: 'stowage', client_id: 'test-client', scope: 'repository:other/thing:pull,push', access_type: 'offline' });
    expect(refreshed.statusCode).toBe(200);
    const body = refreshed.json() as TokenAnswer;
    expect(body.refresh_token).toBe(refresh);
    expect(body.scope).toBe('repository:other/thing:pull,push');
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string };
    expect(claims.sub).toBe('alice');
    expect((await app.server.inject({ method: 'POST', url: '/v2/other/thing/blobs/uploads/', headers: bearer(body.access_token) })).statusCode).toBe(202);
    // An access token is no refresh token.
    const swapped = await post(app, { grant_type: 'refresh_token', refresh_token: body.access_token, service: 'stowage', client_id: 'c' });
    expect(swapped.statusCode).toBe(401);
  });

  it('adds a refresh token to a user’s GET /token with offline_token=true (docker login asks it), never to an anonymous one', async () => {
    const basic = { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` };
    const got = (await app.server.inject({ method: 'GET', url: '/token?service=stowage&offline_token=true&client_id=docker', headers: basic })).json() as TokenAnswer;
    expect(typeof got.refresh_token).toBe('string');
    const exchanged = await post(app, { grant_type: 'refresh_token', refresh_token: got.refresh_token ?? '', service: 'stowage', client_id: 'docker' });
    expect(exchanged.statusCode).toBe(200);
    expect(((await app.server.inject({ method: 'GET', url: '/token?service=stowage&offline_token=true' })).json() as TokenAnswer).refresh_token).toBeUndefined();
    expect(((await app.server.inject({ method: 'GET', url: '/token?service=stowage', headers: basic })).json() as TokenAnswer).refresh_token).toBeUndefined();
  });

  it('refuses a refresh token once its user is removed from htpasswd or changes password', async () => {
    const { refresh_token: refresh } = (await post(app, { ...PASSWORD_GRANT, access_type: 'offline' })).json() as TokenAnswer;
    const fields = { grant_type: 'refresh_token', refresh_token: refresh ?? '', service: 'stowage', client_id: 'c' };
    const sameUsers = await appWith(await htpasswd('same', { alice: 'alice-pw' }));
    expect((await post(sameUsers, fields)).statusCode).toBe(401); // a new bcrypt salt: the entry changed
    const removed = await appWith(await htpasswd('removed', { bob: 'bob-pw' }));
    const refused = await post(removed, fields);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ errors: [{ code: 'UNAUTHORIZED', detail: { error: 'invalid_grant' } }] });
    expect((await post(app, fields)).statusCode).toBe(200);
  });

  it('answers bad requests with 400 and wrong credentials with 401, in the error envelope', async () => {
    const wrong = await post(app, { ...PASSWORD_GRANT, password: 'nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ errors: [{ code: 'UNAUTHORIZED', detail: { error: 'invalid_grant' } }] });
    const cases: Array<[Record<string, string>, string]> = [
      [{ ...PASSWORD_GRANT, client_id: '' }, 'invalid_request'],
      [{ ...PASSWORD_GRANT, grant_type: 'authorization_code' }, 'unsupported_grant_type'],
      [{ ...PASSWORD_GRANT, service: 'elsewhere' }, 'invalid_request'],
      [{ ...PASSWORD_GRANT, access_type: 'forever' }, 'invalid_request'],
      [{ grant_type: 'refresh_token', service: 'stowage', client_id: 'c' }, 'invalid_request'],
      [{ grant_type: 'password', username: 'alice', service: 'stowage', client_id: 'c' }, 'invalid_request'],
    ];
    for (const [fields, error] of cases) {
      const response = await post(app, fields);
      expect(response.statusCode, JSON.stringify(fields)).toBe(400);
      expect(response.json()).toMatchObject({ errors: [{ detail: { error } }] });
    }
    const twice = await app.server.inject({ method: 'POST', url: '/token', headers: FORM, payload: `${new URLSearchParams(PASSWORD_GRANT)}&username=bob` });
    expect(twice.statusCode).toBe(400);
    const json = await app.server.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(PASSWORD_GRANT) });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
  });
});

describe('refresh tokens', () => {
  it('expire, and are valid only for their service', () => {
    let now = 1_800_000_000;
    const one = new TokenSigner({ keyFile, service: 'stowage', issuer: 'stowage', ttlSeconds: 300, now: () => now });
    const refresh = one.issueRefresh('alice', 'fp', 3600);
    expect(one.verifyRefresh(refresh)).toMatchObject({ sub: 'alice', bind: 'fp', use: 'refresh' });
    expect(new TokenSigner({ keyFile, service: 'other', issuer: 'other', ttlSeconds: 300, now: () => now }).verifyRefresh(refresh)).toBeNull();
    expect(one.verify(refresh)).toBeNull();
    now += 3600;
    expect(one.verifyRefresh(refresh)).toBeNull();
  });
});
