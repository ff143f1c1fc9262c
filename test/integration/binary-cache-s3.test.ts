import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStorePathLayer } from '../../src/builder/layer/index.js';
import { BinaryCache } from '../../src/sources/binary-cache/binary-cache.js';
import { BinaryCacheStoreReader } from '../../src/sources/binary-cache/binary-cache-store-reader.js';
import { closureFromCache } from '../../src/sources/binary-cache/closure.js';
import { NarInfoNotFoundError } from '../../src/sources/binary-cache/errors.js';
import { RequestPolicy } from '../../src/sources/binary-cache/request-policy.js';
import { S3CacheTransport } from '../../src/sources/binary-cache/s3-transport.js';
import { parsePublicKey } from '../../src/sources/binary-cache/signatures.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { makeExampleCache, type ExampleCache } from '../support/binary-cache.js';
import { startS3Server, type RunningS3 } from '../support/s3-server.js';

/** A real cache (nix copy, zstd) uploaded to an S3-compatible server and read through s3:// URLs. */
describe('binary caches in S3', () => {
  let cache: ExampleCache;
  let s3: RunningS3;

  beforeAll(async () => {
    cache = await makeExampleCache({ compression: 'zstd' });
    s3 = await startS3Server({ bucket: 'nix-cache' });
    const client = s3.client();
    for (const file of await walk(cache.dir)) {
      const key = `cache/${relative(cache.dir, file)}`;
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: await readFile(file) }));
    }
    client.destroy();
  }, 600_000);

  afterAll(async () => {
    await s3?.close();
    await cache?.cleanup();
  });

  const open = (url: string, client = s3.client()) => {
    const transport = new S3CacheTransport(new URL(url), client);
    return new BinaryCache({
      transport,
      policy: new RequestPolicy({ concurrency: 8, retries: 1, timeoutMs: 10_000, backoffMs: 10, cache: transport.displayUrl }),
      trustedKeys: [parsePublicKey(cache.publicKey)],
      allowUnsigned: false,
      maxNarSize: 2 ** 34,
      narInfoCacheEntries: 100,
    });
  };

  it('reads closures and builds the same layers as the local store', async () => {
    const binaryCache = open(`s3://${s3.bucket}/cache?region=us-east-1&endpoint=${s3.endpoint}`);
    expect(binaryCache.url).toBe(`s3://${s3.bucket}/cache/`);
    const hello = cache.catalog.packages.hello?.outputs.out as string;
    const closure = (await closureFromCache(binaryCache, [hello], AbortSignal.timeout(10_000))).map((info) => info.path);
    expect(closure).toHaveLength(4);
    const reader = new BinaryCacheStoreReader(binaryCache, { allowExternalSymlinks: false, useListings: false });
    const store = new MemoryBlobStore();
    const fromS3 = await writeStorePathLayer({ reader, storePaths: closure, compression: 'gzip', store });
    const fromDisk = await writeStorePathLayer({ reader: new LocalStoreReader(), storePaths: closure, compression: 'gzip', store });
    expect(fromS3.digest).toBe(fromDisk.digest);
    await expect(binaryCache.narInfo('/nix/store/00000000000000000000000000000000-absent', AbortSignal.timeout(10_000))).rejects.toThrow(NarInfoNotFoundError);
  }, 120_000);

  it('builds its client from the URL: endpoint with scheme=http, credentials from the default chain', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, s3.env);
    try {
      const transport = new S3CacheTransport(new URL(`s3://${s3.bucket}/cache/?region=us-east-1&endpoint=127.0.0.1:${s3.port}&scheme=http`));
      const info = await transport.get('nix-cache-info', { signal: AbortSignal.timeout(10_000), maxBytes: 1024 });
      expect(info?.toString()).toContain('StoreDir: /nix/store');
      expect(await transport.get('missing.narinfo', { signal: AbortSignal.timeout(10_000), maxBytes: 1024 })).toBeNull();
    } finally {
      for (const key of Object.keys(s3.env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  }, 60_000);
});

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else files.push(path);
  }
  return files;
}
