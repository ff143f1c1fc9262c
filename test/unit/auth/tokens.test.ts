import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenSigner } from '../../../src/auth/token-signer.js';
import { allows, grant, parseScopes } from '../../../src/auth/token-scopes.js';
import { AccessPolicy } from '../../../src/auth/access-policy.js';

const signer = (now: () => number, options: Partial<{ keyFile: string; service: string; cacheEntries: number }> = {}) =>
  new TokenSigner({ keyFile: '', service: 'stowage', issuer: 'stowage', ttlSeconds: 300, now, ...options });

describe('token scopes', () => {
  it('parses repeated and space-separated scopes, names with ports, and skips malformed ones', () => {
    expect(parseScopes(['repository:team/app:pull,push', 'repository:a:pull registry:catalog:*', 'garbage', 'repository:x:', 'repository:host:5000/y:pull'])).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'a', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'host:5000/y', actions: ['pull'] },
    ]);
  });

  it('merges a scope asked again into one entry, each action once', () => {
    const copies = Array.from({ length: 500 }, () => 'repository:team/app:pull');
    expect(parseScopes([...copies, 'repository:team/app:push,pull repository:team/app:pull', 'repository:other:pull'])).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'other', actions: ['pull'] },
    ]);
  });

  it('grants anonymous callers pull only when anonymous pulls are on, users pull, push and delete', () => {
    const asked = parseScopes(['repository:team/app:pull,push,delete', 'registry:catalog:*', 'other:thing:pull']);
    const policy = new AccessPolicy({ anonymousPull: true, usersConfigured: true });
    expect(grant(asked, null, policy)).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(grant(asked, null, new AccessPolicy({ anonymousPull: false, usersConfigured: true }))).toEqual([]);
    expect(grant(asked, 'alice', policy)).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(grant(parseScopes(['repository:team/app:*']), null, policy)).toEqual([]);
    expect(grant(parseScopes(['repository:team/app:*']), 'alice', policy)).toEqual([{ type: 'repository', name: 'team/app', actions: ['*'] }]);
  });

  it('allows an action only on the repository it names', () => {
    const access = [{ type: 'repository', name: 'team/app', actions: ['pull'] }];
    expect(allows(access, 'repository', 'team/app', 'pull')).toBe(true);
    expect(allows(access, 'repository', 'team/app', 'push')).toBe(false);
    expect(allows(access, 'repository', 'team/other', 'pull')).toBe(false);
    expect(allows([{ type: 'repository', name: 'a', actions: ['*'] }], 'repository', 'a', 'delete')).toBe(true);
  });
});

describe('TokenSigner', () => {
  it('issues ES256 JWTs that it verifies, with the claims the spec names', () => {
    const now = 1_800_000_000;
    const tokens = signer(() => now);
    const { token, claims } = tokens.issue('alice', [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    const [header, payload] = token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({ alg: 'ES256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())).toEqual(claims);
    expect(claims).toMatchObject({ sub: 'alice', aud: 'stowage', iss: 'stowage', iat: now, exp: now + 300 });
    expect(tokens.verify(token)).toEqual(claims);
  });

  it('refuses expired tokens, other audiences, other keys and tampered claims', () => {
    let now = 1_800_000_000;
    const tokens = signer(() => now);
    const { token } = tokens.issue('', [{ type: 'repository', name: 'a', actions: ['pull'] }]);
    expect(signer(() => now, { service: 'elsewhere' }).verify(token)).toBeNull();
    expect(signer(() => now).verify(token)).toBeNull(); // another key made at start
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'alice', aud: 'stowage', exp: now + 1000, access: [{ type: 'repository', name: 'a', actions: ['push'] }] })).toString('base64url');
    expect(tokens.verify(`${header}.${forged}.${signature}`)).toBeNull();
    expect(tokens.verify('not.a.token')).toBeNull();
    expect(tokens.verify(token)).not.toBeNull();
    now += 301;
    // Expiry holds for a cached token too.
    expect(tokens.verify(token)).toBeNull();
  });

  it('shares a configured key between replicas, and bounds its cache of verified tokens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-key-'));
    const keyFile = join(dir, 'key.pem');
    await writeFile(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const one = signer(() => 1_800_000_000, { keyFile, cacheEntries: 3 });
    const two = signer(() => 1_800_000_000, { keyFile, cacheEntries: 3 });
    for (let i = 0; i < 10; i += 1) expect(two.verify(one.issue(`u${i}`, []).token)).not.toBeNull();
    expect(two.cachedEntries).toBe(3);
    const rsa = join(dir, 'rsa.pem');
    await writeFile(rsa, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => signer(() => 0, { keyFile: rsa })).toThrow(/P-256/);
  });
});
