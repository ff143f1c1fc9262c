import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { configFromEnv } from '../../../src/config/env.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { TEST_USER, writeHtpasswd } from '../../support/htpasswd.js';

const PROXY = '10.0.0.5';
const WRONG = { authorization: `Basic ${Buffer.from(`${TEST_USER}:wrong`).toString('base64')}` };

let app: App | undefined;
afterEach(async () => {
  await app?.server.close();
  app = undefined;
});

async function start(trustProxy: string[]): Promise<App> {
  app = await buildApp(
    parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-proxy-')), source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile: await writeHtpasswd() }, server: { trustProxy } }),
    { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
  );
  return app;
}

/** A wrong password at /token from `peer` (the socket's address), forwarding for `forwarded`. */
async function failLogin(target: App, peer: string, forwarded?: string): Promise<number> {
  const headers = forwarded === undefined ? WRONG : { ...WRONG, 'x-forwarded-for': forwarded };
  return (await target.server.inject({ method: 'GET', url: '/token?service=stowage', headers, remoteAddress: peer })).statusCode;
}

/** The statuses of ten failed logins (the limit) and of the eleventh. */
async function tenThenOne(target: App, peer: string, forwarded: (i: number) => string | undefined): Promise<{ first: number[]; eleventh: number }> {
  const first: number[] = [];
  for (let i = 0; i < 10; i++) first.push(await failLogin(target, peer, forwarded(i)));
  return { first, eleventh: await failLogin(target, peer, forwarded(10)) };
}

describe('the failed-login limit behind a proxy (server.trustProxy)', () => {
  it('keys on the forwarded client address when the request comes from a trusted proxy', async () => {
    const target = await start([PROXY]);
    const client = await tenThenOne(target, PROXY, () => '198.51.100.1');
    expect(client.first).toEqual(Array(10).fill(401));
    expect(client.eleventh).toBe(429);
    // Another client behind the same proxy is not held back.
    expect(await failLogin(target, PROXY, '198.51.100.2')).toBe(401);
    // A client that prepends a made-up hop is still known by the hop the proxy saw.
    expect(await failLogin(target, PROXY, '203.0.113.9, 198.51.100.1')).toBe(429);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const target = await start([PROXY]);
    const spoofer = await tenThenOne(target, '192.0.2.50', (i) => `198.51.100.${i + 1}`);
    expect(spoofer.first).toEqual(Array(10).fill(401));
    expect(spoofer.eleventh).toBe(429);
  });

  it('never believes the header without trustProxy: every forwarded address shares the socket’s limit', async () => {
    const target = await start([]);
    const viaProxy = await tenThenOne(target, PROXY, (i) => `198.51.100.${i + 1}`);
    expect(viaProxy.first).toEqual(Array(10).fill(401));
    expect(viaProxy.eleventh).toBe(429);
    expect(await failLogin(target, PROXY, '198.51.100.200')).toBe(429);
    expect(await failLogin(target, '192.0.2.7')).toBe(401);
  });

  it('takes addresses, CIDR ranges and named ranges, from the config or STOWAGE_TRUST_PROXY', () => {
    expect(parseConfig({ server: { trustProxy: ['10.0.0.0/8', '::1', 'loopback', 'fd00::/8'] } }).server.trustProxy).toHaveLength(4);
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1', '*']) {
      expect(() => parseConfig({ server: { trustProxy: [bad] } }), bad).toThrow(/trustProxy/);
    }
    expect(configFromEnv({ STOWAGE_TRUST_PROXY: '10.0.0.5, loopback' })).toEqual({ server: { trustProxy: ['10.0.0.5', 'loopback'] } });
    expect(parseConfig({}).server.trustProxy).toEqual([]);
  });
});
