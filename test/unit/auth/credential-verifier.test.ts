import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { CredentialVerifier, type CredentialCheck } from '../../../src/auth/credential-verifier.js';
import { Htpasswd } from '../../../src/auth/htpasswd.js';
import { LoginThrottle, throttleKey } from '../../../src/auth/login-throttle.js';
import type { FastifyRequest } from 'fastify';
import { checkLogin } from '../../../src/registry/basic-login.js';
import { BcryptWorkers, LoginQueueFullError } from '../../../src/auth/bcrypt-workers.js';

const users = Htpasswd.fromEntries([
  ['alice', bcrypt.hashSync('a-password', 4)],
  ['bob', bcrypt.hashSync('b-password', 4)],
  ['carol', bcrypt.hashSync('c-password', 6)],
]);

function verifierWith(options: { now: () => number; cacheEntries?: number }): { verifier: CredentialVerifier; checks: CredentialCheck[] } {
  const checks: CredentialCheck[] = [];
  const verifier = new CredentialVerifier(users, { compare: async (password, hash) => bcrypt.compareSync(password, hash), cacheTtlMs: 1000, onCheck: (check) => checks.push(check), ...options });
  return { verifier, checks };
}

describe('Htpasswd', () => {
  it('gives unknown users a dummy hash of the most common cost in the file', () => {
    expect(users.hashFor('mallory')).toEqual({ hash: users.dummyHash, known: false });
    expect(users.dummyHash.slice(0, 7)).toBe('$2b$04$');
    expect(Htpasswd.fromEntries([['x', `$2y$12$${'a'.repeat(53)}`]]).dummyHash.slice(0, 7)).toBe('$2b$12$');
    expect(users.hashFor('alice').hash.startsWith('$2b$04$')).toBe(true);
  });
});

describe('CredentialVerifier', () => {
  it('remembers a success until its time-to-live passes, and never a failure', async () => {
    let now = 0;
    const { verifier, checks } = verifierWith({ now: () => now });
    expect(await verifier.verify('alice', 'a-password')).toBe(true);
    expect(await verifier.verify('alice', 'a-password')).toBe(true);
    expect(checks).toHaveLength(1);
    expect(await verifier.verify('alice', 'wrong')).toBe(false);
    expect(await verifier.verify('alice', 'wrong')).toBe(false);
    expect(checks).toHaveLength(3);
    now = 1001;
    expect(await verifier.verify('alice', 'a-password')).toBe(true);
    expect(checks).toHaveLength(4);
    // An unknown user never succeeds, even with the dummy hash's password.
    expect(await verifier.verify('mallory', '')).toBe(false);
  });

  it('keeps at most `cacheEntries` successes, dropping the least recently used', async () => {
    const { verifier, checks } = verifierWith({ now: () => 0, cacheEntries: 2 });
    await verifier.verify('alice', 'a-password');
    await verifier.verify('bob', 'b-password');
    await verifier.verify('alice', 'a-password');
    await verifier.verify('carol', 'c-password');
    expect(verifier.cachedEntries).toBe(2);
    expect(checks).toHaveLength(3);
    await verifier.verify('alice', 'a-password');
    expect(checks).toHaveLength(3);
    await verifier.verify('bob', 'b-password');
    expect(checks).toHaveLength(4);
  });
});

describe('LoginThrottle', () => {
  it('keeps counting failures when a login from the address succeeds (a guesser with an account of its own)', async () => {
    const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 10_000, now: () => 0 });
    const verifier = { verify: async (user: string, password: string) => user === 'mallory' && password === 'mine' } as unknown as CredentialVerifier;
    const request = { ip: '192.0.2.7', raw: { resume: () => undefined } } as unknown as FastifyRequest;
    expect(await checkLogin(request, { user: 'alice', password: 'guess1' }, verifier, throttle)).toBe(false);
    expect(await checkLogin(request, { user: 'alice', password: 'guess2' }, verifier, throttle)).toBe(false);
    expect(await checkLogin(request, { user: 'mallory', password: 'mine' }, verifier, throttle)).toBe(true);
    expect(await checkLogin(request, { user: 'alice', password: 'guess3' }, verifier, throttle)).toBe(false);
    await expect(checkLogin(request, { user: 'alice', password: 'guess4' }, verifier, throttle)).rejects.toMatchObject({ kind: 'LOGIN_THROTTLED' });
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one as IPv4 (sweep 4, F6)', () => {
    const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 10_000, now: () => 0 });
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:0db8:0001:0002:0:0:0:abcd']) throttle.failed(address);
    expect(throttle.retryAfterSeconds('2001:db8:1:2:dead:beef:0:1')).toBe(10);
    expect(throttle.retryAfterSeconds('2001:db8:1:3::1')).toBeNull();
    expect(throttleKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(throttleKey('::1')).toBe('0:0:0:0::/64');
    expect(throttleKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(throttleKey('10.1.2.3')).toBe('10.1.2.3');
  });

  it('refuses an address after maxFailures within the window, until the window ends', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 10_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterSeconds('1.2.3.4')).toBeNull();
      throttle.failed('1.2.3.4');
    }
    expect(throttle.retryAfterSeconds('1.2.3.4')).toBe(10);
    expect(throttle.retryAfterSeconds('5.6.7.8')).toBeNull();
    now = 10_000;
    expect(throttle.retryAfterSeconds('1.2.3.4')).toBeNull();
  });

  it('tracks a bounded number of addresses', () => {
    const throttle = new LoginThrottle({ maxClients: 100, now: () => 0 });
    for (let i = 0; i < 10_000; i++) throttle.failed(`10.0.${i >> 8}.${i & 255}`);
    expect(throttle.trackedClients).toBe(100);
  });
});

describe('BcryptWorkers', () => {
  it('compares on worker threads and bounds the checks waiting', async () => {
    const workers = new BcryptWorkers({ threads: 1, maxWaiting: 2 });
    const hash = bcrypt.hashSync('pw', 4);
    expect(await workers.compare('pw', hash)).toBe(true);
    expect(await workers.compare('nope', hash)).toBe(false);
    const results = await Promise.allSettled([0, 1, 2, 3].map(() => workers.compare('pw', hash)));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    const rejected = results.find((result) => result.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(LoginQueueFullError);
  });
});
