import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryCacheUnavailableError, redactUrl } from '../../../../src/sources/binary-cache/errors.js';
import { BinaryCacheStoreReader } from '../../../../src/sources/binary-cache/binary-cache-store-reader.js';
import { closureFromCache } from '../../../../src/sources/binary-cache/closure.js';
import { createCacheTransport } from '../../../../src/sources/binary-cache/create-transport.js';
import { binaryCacheFor, dir, fakeStorePath, file, FixtureCache, narOf, readEntries } from '../../../support/binary-cache-fixtures.js';
import { startCacheServer, type CacheServer } from '../../../support/binary-cache-server.js';

const ROOT = fakeStorePath('root', 'root');
const DEPS = Array.from({ length: 20 }, (_, i) => fakeStorePath(`dep${i}`, `dep-${i}`));

describe('binary caches over HTTP', () => {
  let cache: FixtureCache;
  let server: CacheServer;

  beforeAll(async () => {
    cache = await FixtureCache.create();
    await cache.add({ storePath: ROOT, nar: narOf(dir({ bin: dir({ root: file('#!/bin/sh\n', true) }) })), references: [ROOT, ...DEPS] });
    for (const dep of DEPS) await cache.add({ storePath: dep, nar: narOf(file(dep)) });
    server = await startCacheServer(cache.dir);
  });
  afterAll(async () => {
    await server.close();
    await cache.cleanup();
  });

  const open = (options: Parameters<typeof binaryCacheFor>[1] = {}) => binaryCacheFor(server.url, { keys: [cache.key.publicKey], ...options });

  it('walks a closure through narinfo references, caching narinfos', async () => {
    server.requests.length = 0;
    const binaryCache = open();
    const closure = await closureFromCache(binaryCache, [ROOT], AbortSignal.timeout(5000));
    expect(closure.map((info) => info.path)).toEqual([ROOT, ...DEPS].sort());
    expect(closure.find((info) => info.path === ROOT)?.narHash).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    expect(server.requests.filter((path) => path.endsWith('.narinfo'))).toHaveLength(21);
    await closureFromCache(binaryCache, [ROOT], AbortSignal.timeout(5000));
    expect(server.requests.filter((path) => path.endsWith('.narinfo'))).toHaveLength(21);
    expect(server.requests.filter((path) => path === 'nix-cache-info')).toHaveLength(1);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    server.delayMs = 20;
    server.inFlight.max = 0;
    try {
      await closureFromCache(open({ concurrency: 3 }), [ROOT], AbortSignal.timeout(10_000));
    } finally {
      server.delayMs = 0;
    }
    expect(server.inFlight.max).toBeLessThanOrEqual(3);
    expect(server.inFlight.max).toBeGreaterThan(1);
  });

  it('retries 5xx answers with backoff, then succeeds', async () => {
    let failures = 0;
    let retries = 0;
    server.fault = (_request, response, path) => {
      if (path.endsWith('.narinfo') && failures < 2) {
        failures += 1;
        response.writeHead(503).end();
        return true;
      }
      return false;
    };
    try {
      expect(await readEntries(new BinaryCacheStoreReader(open({ onRetry: () => (retries += 1) }), { allowExternalSymlinks: false, useListings: false }), ROOT)).toHaveLength(3);
    } finally {
      server.fault = undefined;
    }
    expect(retries).toBe(2);
  });

  it('gives up with BinaryCacheUnavailableError after the retries', async () => {
    server.fault = (_request, response) => {
      response.writeHead(500).end();
      return true;
    };
    try {
      const error = await open({ retries: 2 }).narInfo(ROOT, AbortSignal.timeout(5000)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BinaryCacheUnavailableError);
      expect((error as Error).message).toMatch(/answered 500 \(after 3 attempts\)/);
    } finally {
      server.fault = undefined;
    }
  });

  it('retries a request that times out', async () => {
    let stalls = 1;
    server.fault = (_request, _response, path) => path.endsWith('.narinfo') && stalls-- > 0; // never answered
    try {
      const info = await open({ timeoutMs: 200 }).narInfo(ROOT, AbortSignal.timeout(5000));
      expect(info.storePath).toBe(ROOT);
    } finally {
      server.fault = undefined;
    }
  });

  it('fails a download cut off in the middle', async () => {
    server.fault = (_request, response, path) => {
      if (!path.startsWith('nar/')) return false;
      response.writeHead(200, { 'content-length': '1000' });
      response.write(Buffer.alloc(10));
      setTimeout(() => response.destroy(), 20);
      return true;
    };
    try {
      await expect(readEntries(new BinaryCacheStoreReader(open(), { allowExternalSymlinks: false, useListings: false }), ROOT)).rejects.toThrow(/reading nar\/|decompress|truncated/);
    } finally {
      server.fault = undefined;
    }
  });

  it('sends credentials from the URL as Basic auth and never shows them', async () => {
    let authorization: string | undefined;
    server.fault = (request) => {
      authorization = request.headers.authorization;
      return false;
    };
    try {
      const withCredentials = server.url.replace('http://', 'http://user:s3cret@');
      const binaryCache = binaryCacheFor(withCredentials, { keys: [cache.key.publicKey] });
      await binaryCache.narInfo(ROOT, AbortSignal.timeout(5000));
      expect(authorization).toBe(`Basic ${Buffer.from('user:s3cret').toString('base64')}`);
      expect(binaryCache.url).not.toContain('s3cret');
    } finally {
      server.fault = undefined;
    }
    expect(redactUrl('https://u:p@host/x')).toBe('https://host/x');
  });

  it('refuses unknown URL schemes and a cache without nix-cache-info', async () => {
    expect(() => createCacheTransport('ftp://host/cache')).toThrow(/unsupported scheme/);
    expect(() => createCacheTransport('not a url')).toThrow(/not a URL/);
    await expect(binaryCacheFor(`${server.url}/nowhere`).narInfo(ROOT, AbortSignal.timeout(5000))).rejects.toThrow(/no nix-cache-info/);
  });
});
