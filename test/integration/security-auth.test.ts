import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialCheck } from '../../src/auth/credential-verifier.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { basicAuth, envelopeCode, rawRequest } from '../support/raw-http.js';

/**
 * Issue 11 points 6 and 7 through the real server: unknown users cost what known ones do (the
 * same bcrypt cost), public reads never run a credential check, a repeated valid login runs
 * one, and failed logins are rate-limited per address. Checks are counted, not timed.
 */
const USER = 'alice';
const PASSWORD = 'open sesame';
const COST = 5;

async function htpasswdWithCost(cost: number): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'stowage-auth-')), 'htpasswd');
  await writeFile(file, `${USER}:${bcrypt.hashSync(PASSWORD, cost).replace(/^\$2b\$/, '$2y$')}\nbob:${bcrypt.hashSync('other', cost)}\n`);
  return file;
}

describe.each([true, false])('credential checks with anonymousPull=%s', (anonymousPull) => {
  let registry: RunningRegistry;
  const checks: CredentialCheck[] = [];
  beforeAll(async () => {
    registry = await startRegistry(
      { auth: { htpasswdFile: await htpasswdWithCost(COST), anonymousPull } },
      { source: await FakePackageSource.create(), onCredentialCheck: (check) => checks.push(check) },
    );
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('compares unknown users against a hash of the file’s cost (point 6)', async () => {
    checks.length = 0;
    const unknown = await rawRequest(registry.host, 'POST', '/v2/team/app/blobs/uploads/', { headers: { authorization: basicAuth('mallory', 'guess') } });
    expect(unknown.status).toBe(401);
    const known = await rawRequest(registry.host, 'POST', '/v2/team/app/blobs/uploads/', { headers: { authorization: basicAuth(USER, 'wrong') } });
    expect(known.status).toBe(401);
    expect(checks).toEqual([
      { outcome: 'invalid', cost: COST },
      { outcome: 'invalid', cost: COST },
    ]);
  });

  it('runs one check for a login repeated many times (point 7)', async () => {
    checks.length = 0;
    for (let i = 0; i < 8; i++) {
      const response = await rawRequest(registry.host, 'POST', '/v2/team/app/blobs/uploads/', { headers: { authorization: basicAuth(USER, PASSWORD) } });
      expect(response.status).toBe(202);
    }
    expect(checks).toEqual([{ outcome: 'valid', cost: COST }]);
  });

  it('runs no check on an anonymous read: served when allowed, whatever credentials come with it, else refused (point 7)', async () => {
    checks.length = 0;
    const sent = anonymousPull ? [undefined, basicAuth('nobody', 'x'), basicAuth(USER, 'wrong'), 'Basic !!!'] : [undefined];
    for (const authorization of sent) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      expect((await rawRequest(registry.host, 'GET', '/v2/tool/manifests/latest', { headers })).status).toBe(anonymousPull ? 200 : 401);
      expect((await rawRequest(registry.host, 'GET', '/api/v1/builds', { headers })).status).toBe(anonymousPull ? 200 : 401);
    }
    expect(checks).toEqual([]);
  });

  it('refuses an address after ten failed logins with 429 and Retry-After, without checking (point 7)', async () => {
    // Fresh server: the address has a clean record.
    const counted: CredentialCheck[] = [];
    const own = await startRegistry({ auth: { htpasswdFile: await htpasswdWithCost(4), anonymousPull } }, { source: await FakePackageSource.create(), onCredentialCheck: (check) => counted.push(check) });
    try {
      const bad = { authorization: basicAuth(USER, 'wrong') };
      for (let i = 0; i < 10; i++) expect((await rawRequest(own.host, 'PUT', '/v2/team/app/manifests/v1', { headers: bad })).status).toBe(401);
      expect(counted).toHaveLength(10);
      const throttled = await rawRequest(own.host, 'PUT', '/v2/team/app/manifests/v1', { headers: bad });
      expect(throttled.status).toBe(429);
      expect(envelopeCode(throttled)).toBe('TOOMANYREQUESTS');
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      // Even the right password waits out the window: guessing gets no faster by mixing in a known one.
      expect((await rawRequest(own.host, 'POST', '/v2/team/app/blobs/uploads/', { headers: { authorization: basicAuth(USER, PASSWORD) } })).status).toBe(429);
      expect(counted).toHaveLength(10);
      if (anonymousPull) expect((await rawRequest(own.host, 'GET', '/v2/tool/manifests/latest', { headers: bad })).status).toBe(200);
    } finally {
      await own.close();
    }
  });
});
