import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:pw-${user}`).toString('base64')}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function usersFile(names: readonly string[]): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'stowage-rules-')), 'htpasswd');
  await writeFile(file, names.map((name) => `${name}:${bcrypt.hashSync(`pw-${name}`, 4)}\n`).join(''));
  return file;
}

const RULES: ConfigInput['auth'] = {
  groups: { 'team-a': ['alice'] },
  access: [
    { repository: 'team-a/**', groups: ['team-a'], actions: ['push', 'delete'] },
    { repository: 'shared/*', users: ['*'], actions: ['push'] },
  ],
};

/** auth.access on the wire: Basic is refused with 403 where the rules deny, /token grants only what they allow, and Bearer holds to it. */
describe.each([true, false])('access rules with anonymousPull=%s', (anonymousPull) => {
  let app: App;
  beforeAll(async () => {
    const config = parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile: await usersFile(['alice', 'carol']), anonymousPull, ...RULES } });
    app = await buildApp(config, { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) });
  });
  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string> = {}) => app.server.inject({ method, url, headers });

  it('refuses Basic pushes and deletes the rules do not allow, with 403 DENIED', async () => {
    expect((await inject('POST', '/v2/team-a/app/blobs/uploads/', basic('alice'))).statusCode).toBe(202);
    const denied = await inject('POST', '/v2/team-a/app/blobs/uploads/', basic('carol'));
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ errors: [{ code: 'DENIED', detail: { user: 'carol', repository: 'team-a/app', action: 'push' } }] });
    expect((await inject('POST', '/v2/shared/tool/blobs/uploads/', basic('carol'))).statusCode).toBe(202);
    // No rule names it: denied by default.
    expect((await inject('POST', '/v2/elsewhere/blobs/uploads/', basic('alice'))).statusCode).toBe(403);
    expect((await inject('DELETE', `/v2/shared/tool/manifests/sha256:${'0'.repeat(64)}`, basic('carol'))).statusCode).toBe(403);
    expect((await inject('DELETE', `/v2/team-a/app/manifests/sha256:${'0'.repeat(64)}`, basic('alice'))).statusCode).toBe(404);
  });

  it('keeps a namespace the rules name private to its users for pulls when anonymous pulls are off', async () => {
    const pull = `/v2/team-a/app/manifests/latest`;
    expect((await inject('GET', pull, basic('alice'))).statusCode).toBe(404);
    expect((await inject('GET', pull, basic('carol'))).statusCode).toBe(anonymousPull ? 404 : 403);
    expect((await inject('GET', pull)).statusCode).toBe(anonymousPull ? 404 : 401);
  });

  it('mounts a blob only from a repository the caller may pull', async () => {
    const blob = Buffer.from(`private layer ${String(anonymousPull)}`);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const upload = await app.server.inject({ method: 'POST', url: `/v2/team-a/app/blobs/uploads/?digest=${digest}`, headers: { ...basic('alice'), 'content-type': 'application/octet-stream' }, payload: blob });
    expect(upload.statusCode).toBe(201);
    const mount = (user: string, into: string) => inject('POST', `/v2/${into}/blobs/uploads/?mount=${digest}&from=team-a/app`, basic(user));
    expect((await mount('alice', 'team-a/other')).statusCode).toBe(201);
    // carol may push to shared/*, but reads team-a only when anonymous pulls are on: else a plain upload session.
    expect((await mount('carol', 'shared/tool')).statusCode).toBe(anonymousPull ? 201 : 202);
  });

  it('offers the web UI Delete only to a user the rules let delete, as the DELETE route decides', async () => {
    // A pushed manifest, so the repository page exists; carol may push to shared/* but not delete.
    const config = Buffer.from('{}');
    const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const upload = await app.server.inject({ method: 'POST', url: `/v2/shared/tool/blobs/uploads/?digest=${digest}`, headers: { ...basic('carol'), 'content-type': 'application/octet-stream' }, payload: config });
    expect(upload.statusCode).toBe(201);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length }, layers: [] });
    const put = await app.server.inject({ method: 'PUT', url: '/v2/shared/tool/manifests/v1', headers: { ...basic('carol'), 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, payload: manifest });
    expect(put.statusCode).toBe(201);
    const view = await inject('GET', '/api/v1/repositories/shared/tool', basic('carol'));
    expect(view.statusCode).toBe(200);
    expect((view.json() as { deletes: { allowed: boolean } }).deletes.allowed).toBe(false);
    expect((await inject('DELETE', '/v2/shared/tool/manifests/v1', basic('carol'))).statusCode).toBe(403);
  });

  it('grants tokens only what the rules allow, and the tokens hold to it', async () => {
    const token = async (user: string, scope: string) => {
      const response = await inject('GET', `/token?service=stowage&scope=${encodeURIComponent(scope)}`, basic(user));
      expect(response.statusCode).toBe(200);
      const body = response.json() as { token: string };
      const claims = JSON.parse(Buffer.from(body.token.split('.')[1] ?? '', 'base64url').toString()) as { access: unknown };
      return { token: body.token, access: claims.access };
    };
    const carol = await token('carol', 'repository:team-a/app:pull,push');
    expect(carol.access).toEqual(anonymousPull ? [{ type: 'repository', name: 'team-a/app', actions: ['pull'] }] : []);
    const refused = await inject('POST', '/v2/team-a/app/blobs/uploads/', bearer(carol.token));
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="insufficient_scope"');
    const alice = await token('alice', 'repository:team-a/app:pull,push,delete');
    expect(alice.access).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push', 'delete'] }]);
    expect((await inject('POST', '/v2/team-a/app/blobs/uploads/', bearer(alice.token))).statusCode).toBe(202);
    expect((await token('alice', 'repository:elsewhere:pull,push')).access).toEqual([{ type: 'repository', name: 'elsewhere', actions: ['pull'] }]);
  });
});

describe('auth.access config', () => {
  const problems = (auth: ConfigInput['auth']): string => {
    try {
      parseConfig({ auth: { htpasswdFile: '/etc/htpasswd', ...auth } });
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };
  it('names what is wrong with a rule', () => {
    expect(problems(RULES)).toBe('');
    expect(problems({ access: [{ repository: 'Team/A', users: ['a'], actions: ['push'] }] })).toMatch(/auth\.access\.0\.repository: must be a repository name or glob/);
    expect(problems({ access: [{ repository: 'team/a**', users: ['a'], actions: ['push'] }] })).toMatch(/auth\.access\.0\.repository: \*\* must be a whole path component/);
    expect(problems({ access: [{ repository: 'team/*', users: ['a'], actions: ['write' as 'push'] }] })).toMatch(/auth\.access\.0\.actions\.0/);
    expect(problems({ access: [{ repository: 'team/*', actions: ['push'] }] })).toMatch(/auth\.access\.0\.users: must name users or groups/);
    expect(problems({ access: [{ repository: 'team/*', groups: ['nope'], actions: ['push'] }] })).toMatch(/auth\.access\.0\.groups\.0: names no group of auth.groups: nope/);
    expect(problems({ access: [{ repository: 'team/*', users: ['a'], actions: [] }] })).toMatch(/auth\.access\.0\.actions: must name at least one/);
    expect(problems({ htpasswdFile: '', access: [{ repository: 'team/*', users: ['a'], actions: ['push'] }] })).toMatch(/auth\.access: rules need users/);
  });
});
