import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeflateWorkers, GZIP_BLOCK_BYTES, writeStorePathLayer } from '../../../../src/builder/layer/index.js';
import { LocalStoreReader } from '../../../../src/sources/local-store-reader.js';
import { MemoryBlobStore } from '../../../../src/storage/memory-blob-store.js';
import { byName, makeStore, readBlob, untar, type TempStore } from './layer-test-support.js';

/** Half noise, half text, so blocks compress unevenly and take different times. */
function content(seed: number, length: number): Buffer {
  const bytes = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16)).update(Buffer.alloc(length));
  return Buffer.concat([bytes.subarray(0, length / 2), Buffer.from('x'.repeat(length / 2))]);
}

const PATHS = {
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-big-1.0': { lib: { 'big.so': { file: content(1, 3 * GZIP_BLOCK_BYTES) }, 'small.so': { file: 'small' } } },
  'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-other-1.0': { share: { data: { file: content(2, GZIP_BLOCK_BYTES / 2) } } },
};

describe('gzip store-path layers over several blocks', () => {
  let fake: TempStore;
  beforeAll(async () => {
    fake = await makeStore(PATHS);
  });
  afterAll(() => fake.cleanup());

  async function build(threads: number) {
    const store = new MemoryBlobStore();
    const blob = await writeStorePathLayer({
      reader: new LocalStoreReader(fake.dir),
      storePaths: Object.keys(PATHS).map((name) => `/nix/store/${name}`),
      compression: 'gzip',
      store,
      gzipCompressors: new DeflateWorkers(threads),
    });
    return { blob, bytes: await readBlob(store, blob.digest) };
  }

  it('has the same digest and diff_id with 1 and 3 threads and across runs; gunzip gives the tar the diff_id names', async () => {
    const one = await build(1);
    const three = await build(3);
    const again = await build(3);
    expect(three.blob).toEqual(one.blob);
    expect(again.blob.digest).toBe(one.blob.digest);
    const tar = execFileSync('gzip', ['-dc'], { input: one.bytes, maxBuffer: 64 * 2 ** 20 });
    expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(one.blob.diffId);
    expect(tar.length).toBe(one.blob.uncompressedSize);
    const entries = byName(await untar(tar));
    expect(entries.get('nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-big-1.0/lib/big.so')?.content.equals(content(1, 3 * GZIP_BLOCK_BYTES))).toBe(true);
  });
});
