import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { CredentialVerifier } from '../../../src/auth/credential-verifier.js';
import { HtpasswdFile, type HtpasswdReload } from '../../../src/auth/htpasswd-file.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const entries = (users: Record<string, string>): string => Object.entries(users).map(([user, password]) => `${user}:${bcrypt.hashSync(password, 4)}\n`).join('');

let file: string;
let now: number;
/** Replaces the file as editors and `htpasswd` do: a new file renamed over the old one. */
const replace = async (text: string): Promise<void> => {
  await writeFile(`${file}.new`, text);
  await rename(`${file}.new`, file);
};

beforeEach(async () => {
  file = join(await mkdtemp(join(tmpdir(), 'policy-htpasswd-')), 'htpasswd');
  await writeFile(file, entries({ alice: 'a-1', bob: 'b-1' }));
  now = 1_000_000;
});

async function verifierOnFile(): Promise<{ verifier: CredentialVerifier; reloads: HtpasswdReload[]; users: HtpasswdFile; compares: { n: number } }> {
  const reloads: HtpasswdReload[] = [];
  const compares = { n: 0 };
  const users = await HtpasswdFile.open({ path: file, now: () => now, checkIntervalMs: 5_000, onReload: (reload) => reloads.push(reload) });
  const verifier = new CredentialVerifier(users, { compare: async (password, hash) => (compares.n++, bcrypt.compareSync(password, hash)), cacheTtlMs: 3_600_000, now: () => now });
  return { verifier, reloads, users, compares };
}

describe('the htpasswd file, re-read when it changes', () => {
  it('takes a new user, a changed password and a removed user at the next look, remembered logins included', async () => {
    const { verifier, reloads, compares } = await verifierOnFile();
    expect(await verifier.verify('alice', 'a-1')).toBe(true);
    expect(await verifier.verify('bob', 'b-1')).toBe(true);
    expect(await verifier.verify('alice', 'a-1')).toBe(true);
    expect(compares.n).toBe(2);
    const bobBefore = await verifier.fingerprint('bob');

    await replace(entries({ alice: 'a-2', carol: 'c-1' }));
    // Not looked at again before the interval has passed.
    now += 4_999;
    expect(await verifier.verify('carol', 'c-1')).toBe(false);
    expect(await verifier.verify('alice', 'a-1')).toBe(true);
    expect(reloads).toEqual([]);
    now += 1;
    expect(await verifier.verify('carol', 'c-1')).toBe(true);
    expect(reloads).toEqual([{ ok: true, users: 2 }]);
    // The remembered success for alice's old password and bob's are of no use any more.
    expect(await verifier.verify('alice', 'a-1')).toBe(false);
    expect(await verifier.verify('bob', 'b-1')).toBe(false);
    expect(await verifier.verify('alice', 'a-2')).toBe(true);
    expect(bobBefore).not.toBeNull();
    expect(await verifier.fingerprint('bob')).toBeNull();
  });

  it('notices a file rewritten in place, not only one renamed over it', async () => {
    const { verifier } = await verifierOnFile();
    await writeFile(file, entries({ alice: 'a-9' }));
    now += 5_000;
    expect(await verifier.verify('alice', 'a-9')).toBe(true);
  });

  it('keeps the users it has when the new file is malformed or gone, says so once, and recovers', async () => {
    const { verifier, reloads, users } = await verifierOnFile();
    await replace(`${entries({ carol: 'c-1' })}mallory:plaintext\n`);
    now += 5_000;
    expect(await verifier.verify('alice', 'a-1')).toBe(true);
    expect(await verifier.verify('carol', 'c-1')).toBe(false);
    expect(users.lastError).toMatch(/htpasswd:2: not a "user:bcrypt-hash" entry/);
    now += 5_000;
    expect(await verifier.verify('bob', 'b-1')).toBe(true);
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toMatchObject({ ok: false });

    await rm(file);
    now += 5_000;
    expect(await verifier.verify('alice', 'a-1')).toBe(true);
    expect(users.lastError).toMatch(/ENOENT/);

    await writeFile(file, entries({ carol: 'c-1' }));
    now += 5_000;
    expect(await verifier.verify('carol', 'c-1')).toBe(true);
    expect(await verifier.verify('alice', 'a-1')).toBe(false);
    expect(users.lastError).toBeNull();
    expect(reloads.map((reload) => reload.ok)).toEqual([false, false, true]);
  });

  it('shares one look among concurrent logins', async () => {
    const { verifier, reloads } = await verifierOnFile();
    await replace(entries({ alice: 'a-1', dave: 'd-1' }));
    now += 5_000;
    expect(await Promise.all([verifier.verify('dave', 'd-1'), verifier.verify('dave', 'd-1'), verifier.verify('alice', 'a-1')])).toEqual([true, true, true]);
    expect(reloads).toHaveLength(1);
  });
});

describe('the server on a changing htpasswd file', () => {
  it('lets a new password in and the old one out without a restart, ends refresh tokens of a removed user, and reports a broken file in /metrics', async () => {
    const keyFile = join(await mkdtemp(join(tmpdir(), 'policy-key-')), 'key.pem');
    await writeFile(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const config = parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'policy-data-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile: file, anonymousPull: false, token: { keyFile } } });
    const app = await buildApp(config, { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }), now: () => now });
    try {
      const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
      const ping = async (user: string, password: string) => (await app.server.inject({ method: 'GET', url: '/v2/_catalog', headers: basic(user, password) })).statusCode;
      const failing = async (password: string) => /^stowage_htpasswd_reload_failing (\d)$/m.exec((await app.server.inject({ method: 'GET', url: '/metrics', headers: basic('alice', password) })).body)?.[1];
      const refresh = async (token: string) =>
        (await app.server.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, service: 'stowage', client_id: 'test' }).toString() })).statusCode;

      const offline = await app.server.inject({ method: 'GET', url: '/token?service=stowage&offline_token=true', headers: basic('bob', 'b-1') });
      const bobs = (offline.json() as { refresh_token: string }).refresh_token;
      expect(await refresh(bobs)).toBe(200);
      expect(await ping('alice', 'a-1')).toBe(200);
      expect(await failing('a-1')).toBe('0');

      await replace(entries({ alice: 'a-2' }));
      now += 5_000;
      expect(await ping('alice', 'a-1')).toBe(401);
      expect(await ping('alice', 'a-2')).toBe(200);
      expect(await refresh(bobs)).toBe(401);

      await replace('alice:not-a-hash\n');
      now += 5_000;
      expect(await ping('alice', 'a-2')).toBe(200);
      expect(await failing('a-2')).toBe('1');
    } finally {
      await app.server.close();
    }
  });
});
