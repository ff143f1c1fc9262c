import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { basicAuth } from '../support/raw-http.js';

/**
 * Findings of the seventh attack session, each against a real in-process registry over HTTP.
 */

async function htpasswdOf(users: readonly string[]): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'stowage-attack7-')), 'htpasswd');
  await writeFile(file, users.map((user) => `${user}:${bcrypt.hashSync(`pw-${user}`, 4)}\n`).join(''));
  return file;
}

/**
 * Upload sessions were bounded for the whole registry only (push.maxUploads): one pusher
 * looping on POST took every session, and every other user's chunked and POST-then-PUT
 * uploads (containerd, docker) got 429 until the sessions expired a day later.
 */
describe('one user cannot take every upload session (push.maxUploadsPerUser)', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ push: { namespaces: ['team'], maxUploads: 10, maxUploadsPerUser: 3 }, auth: { htpasswdFile: await htpasswdOf(['alice', 'bob']) } }, { source: await FakePackageSource.create() });
  });
  afterAll(async () => {
    await registry?.close();
  });
  const start = (user: string) => fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { authorization: basicAuth(user, `pw-${user}`) } });

  it('refuses the user past the bound with 429, serves the others, and lets the user start again once one ends', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const started = await start('alice');
      expect(started.status).toBe(202);
      mine.push(String(started.headers.get('location')));
    }
    const refused = await start('alice');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { errors: Array<{ code: string; message: string }> }).errors[0]).toMatchObject({ code: 'TOOMANYREQUESTS', message: expect.stringContaining('alice') });
    expect((await start('bob')).status).toBe(202);

    const cancelled = await fetch(`${registry.url}${mine[0]}`, { method: 'DELETE', headers: { authorization: basicAuth('alice', 'pw-alice') } });
    expect(cancelled.status).toBe(204);
    expect((await start('alice')).status).toBe(202);
    expect((await start('alice')).status).toBe(429);
  });
});
