import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStorePathLayer, writeSyntheticLayer, type LayerCompression } from '../../../../src/builder/layer/index.js';
import { LocalStoreReader } from '../../../../src/sources/local-store-reader.js';
import type { StoreEntry, StoreReader } from '../../../../src/sources/types.js';
import { MemoryBlobStore } from '../../../../src/storage/memory-blob-store.js';
import type { BlobStore, BlobWriter } from '../../../../src/storage/types.js';
import { layerTar, makeStore, readBlob, untar, type TempStore } from './layer-test-support.js';

const S = '/nix/store';

/** A memory store that records what happened to its writers. */
class RecordingStore extends MemoryBlobStore {
  aborted = 0;
  committed = 0;
  override async writer(): Promise<BlobWriter> {
    const inner = await super.writer();
    return {
      stream: inner.stream,
      get size() {
        return inner.size;
      },
      commit: async (expected?: string) => {
        this.committed += 1;
        return inner.commit(expected);
      },
      abort: async () => {
        this.aborted += 1;
        return inner.abort();
      },
    };
  }
}

/** A reader serving fixed entries, optionally failing after some of them. */
function fakeReader(entries: Record<string, readonly StoreEntry[]>, failAfter?: { path: string; count: number; error: Error }): StoreReader {
  return {
    async *entries(storePath: string) {
      let count = 0;
      for (const entry of entries[storePath] ?? []) {
        if (failAfter?.path === storePath && count++ === failAfter.count) throw failAfter.error;
        yield entry;
      }
    },
    async list() {
      return null;
    },
  };
}

function file(path: string, content: Buffer | (() => Readable), size?: number): StoreEntry {
  return {
    kind: 'file',
    path,
    size: size ?? (Buffer.isBuffer(content) ? content.length : 0),
    executable: false,
    open: () => (Buffer.isBuffer(content) ? Readable.from([content]) : content()),
  };
}

describe('writeStorePathLayer', () => {
  let fake: TempStore;
  let reader: LocalStoreReader;
  const paths = [`${S}/ccc-three`, `${S}/aaa-one`, `${S}/bbb-two`];

  beforeAll(async () => {
    fake = await makeStore({
      'aaa-one': { bin: { one: { file: 'one\n'.repeat(1000), executable: true } } },
      'bbb-two': { lib: { two: { file: Buffer.alloc(200_000, 'two') } }, same: { file: 'one\n'.repeat(1000), executable: true } },
      'ccc-three': { file: 'three\n' },
    });
    reader = new LocalStoreReader(fake.dir);
  });
  afterAll(() => fake.cleanup());

  it.each<LayerCompression>(['gzip', 'zstd'])('reports a %s blob whose diffId hashes the decompressed bytes', async (compression) => {
    const store = new MemoryBlobStore();
    const blob = await writeStorePathLayer({ reader, storePaths: paths, compression, store });
    const compressed = await readBlob(store, blob.digest);
    const tar = await layerTar(store, blob);
    expect(store.digests()).toEqual([blob.digest]);
    expect(blob.compression).toBe(compression);
    expect(blob.size).toBe(compressed.length);
    expect(blob.digest).toBe(`sha256:${createHash('sha256').update(compressed).digest('hex')}`);
    expect(blob.uncompressedSize).toBe(tar.length);
    expect(blob.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
  });

  it('is deterministic: same digests whatever the order or repetition of store paths', async () => {
    const store = new MemoryBlobStore();
    const first = await writeStorePathLayer({ reader, storePaths: paths, compression: 'gzip', store });
    const again = await writeStorePathLayer({ reader, storePaths: [...paths].reverse().concat(paths[0] ?? ''), compression: 'gzip', store });
    expect(again).toEqual(first);
    const zstd1 = await writeStorePathLayer({ reader, storePaths: paths, compression: 'zstd', store });
    const zstd2 = await writeStorePathLayer({ reader, storePaths: paths, compression: 'zstd', store });
    expect(zstd2).toEqual(zstd1);
    expect(zstd1.diffId).toBe(first.diffId);
  });

  it('writes a deterministic gzip header: no mtime, no file name, OS unix', async () => {
    const store = new MemoryBlobStore();
    const blob = await writeStorePathLayer({ reader, storePaths: paths, compression: 'gzip', level: 9, store });
    const header = (await readBlob(store, blob.digest)).subarray(0, 10);
    expect([...header]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  });

  it('changes the digest, not the diffId, with the level', async () => {
    const store = new MemoryBlobStore();
    const fast = await writeStorePathLayer({ reader, storePaths: paths, compression: 'gzip', level: 1, store });
    const best = await writeStorePathLayer({ reader, storePaths: paths, compression: 'gzip', level: 9, store });
    expect(fast.digest).not.toBe(best.digest);
    expect(fast.diffId).toBe(best.diffId);
  });

  it('rejects an invalid level before staging anything', async () => {
    const store = new RecordingStore();
    await expect(writeStorePathLayer({ reader, storePaths: paths, compression: 'gzip', level: 10, store })).rejects.toThrow(RangeError);
    await expect(writeStorePathLayer({ reader, storePaths: paths, compression: 'zstd', level: 0, store })).rejects.toThrow(RangeError);
    expect(store.aborted + store.committed).toBe(0);
  });

  it.each([`${S}/aaa-one/bin`, '/tmp/x', `${S}/..`])('rejects the store path %j', async (storePath) => {
    const store = new RecordingStore();
    await expect(writeStorePathLayer({ reader, storePaths: [storePath], compression: 'gzip', store })).rejects.toThrow(/not a store path/);
    expect(store.aborted + store.committed).toBe(0);
  });

  it.each<LayerCompression>(['gzip', 'zstd'])('aborts the writer and commits nothing when the signal fires (%s)', async (compression) => {
    const store = new RecordingStore();
    const controller = new AbortController();
    const slow = fakeReader({
      [`${S}/aaa-slow`]: [
        { kind: 'directory', path: `${S}/aaa-slow` },
        file(`${S}/aaa-slow/data`, () => Readable.from(endless(() => controller.abort(new Error('user went away')))), 1 << 30),
      ],
    });
    await expect(writeStorePathLayer({ reader: slow, storePaths: [`${S}/aaa-slow`], compression, store, signal: controller.signal })).rejects.toThrow('user went away');
    expect(store.aborted).toBe(1);
    expect(store.committed).toBe(0);
    expect(store.digests()).toEqual([]);
  });

  it('rejects at once with an already aborted signal', async () => {
    const store = new RecordingStore();
    const signal = AbortSignal.abort(new Error('too late'));
    await expect(writeStorePathLayer({ reader, storePaths: paths, compression: 'gzip', store, signal })).rejects.toThrow('too late');
    expect(store.digests()).toEqual([]);
  });

  it('aborts the writer and propagates a reader error', async () => {
    const store = new RecordingStore();
    const failing = fakeReader(
      { [`${S}/aaa-x`]: [{ kind: 'directory', path: `${S}/aaa-x` }, file(`${S}/aaa-x/f`, Buffer.from('f')), file(`${S}/aaa-x/g`, Buffer.from('g'))] },
      { path: `${S}/aaa-x`, count: 2, error: new Error('disk on fire') },
    );
    await expect(writeStorePathLayer({ reader: failing, storePaths: [`${S}/aaa-x`], compression: 'zstd', store })).rejects.toThrow('disk on fire');
    expect(store.aborted).toBe(1);
    expect(store.digests()).toEqual([]);
  });

  it('aborts when a file stream fails or is shorter than its size', async () => {
    const store = new RecordingStore();
    const broken = fakeReader({
      [`${S}/aaa-x`]: [file(`${S}/aaa-x`, () => new Readable({ read() { this.destroy(new Error('EIO')); } }), 10)],
      [`${S}/bbb-y`]: [file(`${S}/bbb-y`, () => Readable.from([Buffer.from('short')]), 10)],
    });
    await expect(writeStorePathLayer({ reader: broken, storePaths: [`${S}/aaa-x`], compression: 'gzip', store })).rejects.toThrow('EIO');
    await expect(writeStorePathLayer({ reader: broken, storePaths: [`${S}/bbb-y`], compression: 'gzip', store })).rejects.toThrow(/5 bytes instead of 10/);
    expect(store.aborted).toBe(2);
    expect(store.digests()).toEqual([]);
  });

  it('refuses entries a reader places outside the store path', async () => {
    const store = new RecordingStore();
    const escaping = fakeReader({ [`${S}/aaa-x`]: [{ kind: 'directory', path: `${S}/aaa-x` }, { kind: 'symlink', path: `${S}/aaa-x/../evil`, target: '/' }] });
    await expect(writeStorePathLayer({ reader: escaping, storePaths: [`${S}/aaa-x`], compression: 'gzip', store })).rejects.toThrow(/outside|while reading/);
    expect(store.aborted).toBe(1);
  });

  it('propagates a blob store failure and aborts the writer', async () => {
    const failingStore: BlobStore & { aborted: number } = Object.assign(new RecordingStore(), {});
    const original = failingStore.writer.bind(failingStore);
    failingStore.writer = async () => {
      const inner = await original();
      inner.stream.destroy(new Error('bucket gone'));
      return inner;
    };
    await expect(writeStorePathLayer({ reader, storePaths: paths, compression: 'gzip', store: failingStore })).rejects.toThrow('bucket gone');
    expect(failingStore.aborted).toBe(1);
  });
});

describe('writeSyntheticLayer', () => {
  it('writes entries in tree order with their modes, adding missing parents', async () => {
    const store = new MemoryBlobStore();
    const blob = await writeSyntheticLayer({
      entries: [
        { kind: 'file', path: '/etc/passwd', mode: 0o644, content: 'root:x:0:0::/root:/bin/sh\n' },
        { kind: 'symlink', path: '/bin/hello', target: '/nix/store/aaa-hello/bin/hello' },
        { kind: 'directory', path: '/tmp', mode: 0o1777 },
        { kind: 'symlink', path: 'usr/bin/env', target: '/nix/store/bbb-coreutils/bin/env' },
        { kind: 'directory', path: 'home/user/', mode: 0o700, uid: 1000, gid: 100 },
        { kind: 'file', path: 'etc/empty', mode: 0, content: new Uint8Array() },
      ],
      compression: 'zstd',
      store,
    });
    const items = await untar(await layerTar(store, blob));
    expect(items.map(({ header }) => [header.name, header.type, header.mode?.toString(8), header.uid, header.linkname ?? null])).toEqual([
      ['bin/', 'directory', '755', 0, null],
      ['bin/hello', 'symlink', '777', 0, '/nix/store/aaa-hello/bin/hello'],
      ['etc/', 'directory', '755', 0, null],
      ['etc/empty', 'file', '0', 0, null],
      ['etc/passwd', 'file', '644', 0, null],
      ['home/', 'directory', '755', 0, null],
      ['home/user/', 'directory', '700', 1000, null],
      ['tmp/', 'directory', '1777', 0, null],
      ['usr/', 'directory', '755', 0, null],
      ['usr/bin/', 'directory', '755', 0, null],
      ['usr/bin/env', 'symlink', '777', 0, '/nix/store/bbb-coreutils/bin/env'],
    ]);
    expect(items[4]?.content.toString()).toBe('root:x:0:0::/root:/bin/sh\n');
    expect(items.every(({ header }) => header.mtime?.getTime() === 1000)).toBe(true);
  });

  it.each([
    [[{ kind: 'directory', path: '/a/../b', mode: 0o755 }], /invalid synthetic layer path/],
    [[{ kind: 'directory', path: '/', mode: 0o755 }], /invalid synthetic layer path/],
    [[{ kind: 'directory', path: 'a', mode: 0o755 }, { kind: 'directory', path: '/a/', mode: 0o700 }], /twice/],
    [[{ kind: 'file', path: 'a', mode: 0o644, content: '' }, { kind: 'file', path: 'a/b', mode: 0o644, content: '' }], /not a directory/],
    [[{ kind: 'directory', path: 'a', mode: 0o10000 }], /invalid mode/],
  ] as const)('rejects invalid entries %#', async (entries, message) => {
    const store = new RecordingStore();
    await expect(writeSyntheticLayer({ entries, compression: 'gzip', store })).rejects.toThrow(message);
    expect(store.aborted + store.committed).toBe(0);
  });
});

/** Endless 64 KiB chunks; calls `onStarted` once some have been read. */
async function* endless(onStarted: () => void): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let i = 0; ; i++) {
    if (i === 20) onStarted();
    yield chunk;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
