import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const entries = (users: Record<string, string>): string => Object.entries(users).map(([user, password]) => `${user}:${bcrypt.hashSync(password, 4)}\n`).join('');
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A removed user, or a user whose password changed, keeps no access: their password and refresh
 * tokens stopped working at the next look at the htpasswd file, but an access token issued
 * before went on pushing and pulling until it expired (auth.token.ttlSeconds, up to a day).
 */
describe('access tokens of a user whose htpasswd entry changed', () => {
  it('stop working at the next look at the file, while new tokens and anonymous ones work', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-token-bind-'));
    const file = join(dir, 'htpasswd');
    await writeFile(file, entries({ alice: 'a-1', bob: 'b-1' }));
    let now = 1_000_000;
    const config = parseConfig({ dataDir: join(dir, 'data'), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile: file } });
    const app = await buildApp(config, { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }), now: () => now });
    try {
      const token = async (headers: Record<string, string>): Promise<string> => {
        const response = await app.server.inject({ method: 'GET', url: `/token?service=stowage&scope=${encodeURIComponent('repository:team/app:pull,push')}`, headers });
        expect(response.statusCode).toBe(200);
        return (response.json() as { token: string }).token;
      };
      const startUpload = async (value: string) => app.server.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/', headers: bearer(value) });
      const oauthToken = async (user: string, password: string): Promise<string> => {
        const payload = new URLSearchParams({ grant_type: 'password', service: 'stowage', client_id: 'test', username: user, password, scope: 'repository:team/app:pull,push' }).toString();
        const response = await app.server.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
        expect(response.statusCode).toBe(200);
        return (response.json() as { access_token: string }).access_token;
      };

      const alice = await token(basic('alice', 'a-1'));
      const bob = await oauthToken('bob', 'b-1');
      const anonymous = await token({});
      expect((await startUpload(alice)).statusCode).toBe(202);
      expect((await startUpload(bob)).statusCode).toBe(202);

      await writeFile(`${file}.new`, entries({ alice: 'a-2' }));
      await rename(`${file}.new`, file);
      now += 5_000;
      for (const stale of [alice, bob]) {
        const refused = await startUpload(stale);
        expect(refused.statusCode).toBe(401);
        expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
        expect((await app.server.inject({ method: 'GET', url: '/api/v1/builds', headers: bearer(stale) })).statusCode).toBe(401);
      }
      expect((await startUpload(await token(basic('alice', 'a-2')))).statusCode).toBe(202);
      expect((await app.server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: bearer(anonymous) })).statusCode).toBe(200);
    } finally {
      await app.server.close();
    }
  });
});
