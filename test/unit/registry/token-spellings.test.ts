import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:pw-${user}`).toString('base64')}` });

interface Granted {
  readonly type: string;
  readonly name: string;
  readonly actions: string[];
}

/** The `access` claim of a JWT the registry signed (its signature is the registry's business). */
const accessOf = (token: string): Granted[] => (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { access: Granted[] }).access;

/**
 * A rule on `extra/tool` holds under every spelling of that package-list image (image-spellings.ts):
 * the handlers refuse bob `tool/extra` with 403. The token endpoint granted him `pull` on
 * `tool/extra` all the same, since no rule names that spelling: a token carrying an action the
 * rules deny. A pushed repository stays its name as spelled.
 */
describe('tokens for other spellings of a private package-list image', () => {
  let app: App;
  beforeAll(async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'stowage-token-spellings-')), 'htpasswd');
    await writeFile(file, ['alice', 'bob'].map((user) => `${user}:${bcrypt.hashSync(`pw-${user}`, 4)}\n`).join(''));
    const config = parseConfig({
      dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')),
      source: { kind: 'nix', shellPackages: ['minishell'] },
      push: { namespaces: ['team'] },
      auth: {
        htpasswdFile: file,
        anonymousPull: false,
        access: [
          { repository: 'extra/tool', users: ['alice'], actions: ['pull'] },
          { repository: 'team/**', users: ['*'], actions: ['push'] },
          { repository: 'app/team', users: ['alice'], actions: ['pull'] },
        ],
      },
    });
    app = await buildApp(config, { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) });
  });

  const scopes = ['tool/extra', 'tool/extra/tool', 'gzip/extra/tool', 'extra/tool'].map((name) => `repository:${name}:pull`);

  const getToken = async (user: string, scope: readonly string[]): Promise<string> => {
    const query = scope.map((value) => `scope=${encodeURIComponent(value)}`).join('&');
    const response = await app.server.inject({ method: 'GET', url: `/token?service=stowage&${query}`, headers: basic(user) });
    expect(response.statusCode).toBe(200);
    return (response.json() as { token: string }).token;
  };

  it('grants bob no pull under any spelling, alice every one (GET /token)', async () => {
    expect(accessOf(await getToken('bob', scopes))).toEqual([]);
    expect(accessOf(await getToken('alice', scopes)).map((entry) => entry.name)).toEqual(['tool/extra', 'tool/extra/tool', 'gzip/extra/tool', 'extra/tool']);
    expect(accessOf(await getToken('bob', ['repository:tool:pull']))).toEqual([{ type: 'repository', name: 'tool', actions: ['pull'] }]);
  });

  it('grants bob no pull under another spelling with the OAuth2 form either (POST /token)', async () => {
    const form = new URLSearchParams({ grant_type: 'password', service: 'stowage', client_id: 'test', username: 'bob', password: 'pw-bob', scope: scopes.join(' ') });
    const response = await app.server.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { token: string; scope: string };
    expect(body.scope).toBe('');
    expect(accessOf(body.token)).toEqual([]);
  });

  it('refuses bob with the token he gets, as with his password', async () => {
    const token = await getToken('bob', ['repository:tool/extra:pull']);
    const response = await app.server.inject({ method: 'GET', url: '/v2/tool/extra/manifests/latest', headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('takes a pushed repository as spelled: bob pulls and pushes team/app', async () => {
    expect(accessOf(await getToken('bob', ['repository:team/app:pull,push']))).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
  });
});
