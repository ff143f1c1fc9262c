import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { isAuthority } from '../../../src/registry/host-check.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { writeHtpasswd } from '../../support/htpasswd.js';

/**
 * Sweep 4, F5: the Host header went unchecked into the token realm of a challenge
 * (`Host: evil.example",service="other` added a parameter) and into the pull commands the UI
 * shows. A Host that is not a host and port is now answered 400 before any route reads it.
 */
describe('isAuthority', () => {
  it('takes host names, addresses and ports, and nothing with quotes, commas, spaces or paths', () => {
    for (const host of ['registry.example', 'Registry.Example:5000', '127.0.0.1:5000', 'localhost', '[::1]:5000', '[2001:db8::1]', 'a-b.c.', 'x'.repeat(63), 'my_registry:5000', 'registry:', '[fe80::1%25eth0]:5000']) expect(isAuthority(host), host).toBe(true);
    for (const host of ['evil.example",service="other', 'a b', 'a,b', 'a/b', 'a:b', 'a:123456', '-a.example', 'a..b', '[::1', 'x'.repeat(64), 'é.example', 'a\r\nb', '[fe80::1%eth0]', '[::1%25]', 'a_"b']) expect(isAuthority(host), host).toBe(false);
  });
});

describe('a request with a bad Host', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildApp(
      parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-unit-')), source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile: await writeHtpasswd() } }),
      { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
    );
  });

  it('is answered 400 with an error body on the registry and the UI routes, and a good one is served', async () => {
    const evil = 'evil.example",service="other';
    for (const url of ['/v2/', '/v2/team/a/tags/list', '/api/v1/info', '/token?service=stowage']) {
      const response = await app.server.inject({ method: 'GET', url, headers: { host: evil } });
      expect(response.statusCode, url).toBe(400);
      expect(response.headers['www-authenticate'], url).toBeUndefined();
      expect((response.json() as { errors: Array<{ code: string }> }).errors[0]?.code, url).toBe('UNSUPPORTED');
    }
    const challenge = await app.server.inject({ method: 'GET', url: '/v2/', headers: { host: 'registry.example:5000' } });
    expect(challenge.statusCode).toBe(401);
    expect(challenge.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/registry\.example:5000\/token",service="stowage"/);
    const info = await app.server.inject({ method: 'GET', url: '/api/v1/info', headers: { host: '[::1]:5000' } });
    expect(info.json()).toMatchObject({ registry: '[::1]:5000' });
  });
});
