import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import { writeStorePathLayer } from '../../../../src/builder/layer/index.js';
import { BinaryCacheStoreReader } from '../../../../src/sources/binary-cache/binary-cache-store-reader.js';
import { NarDecoderStream } from '../../../../src/sources/binary-cache/nar-decoder-worker.js';
import {
  BinaryCacheIntegrityError,
  NarInfoNotFoundError,
  UntrustedNarInfoError,
} from '../../../../src/sources/binary-cache/errors.js';
import { LocalStoreReader } from '../../../../src/sources/local-store-reader.js';
import { MemoryBlobStore } from '../../../../src/storage/memory-blob-store.js';
import {
  binaryCacheFor,
  dir,
  fakeStorePath,
  file,
  FixtureCache,
  link,
  narOf,
  narTokens,
  readEntries,
  type NarNode,
} from '../../../support/binary-cache-fixtures.js';
import { makeStore, type TempStore, type Tree } from '../../builder/layer/layer-test-support.js';

const PKG = fakeStorePath('pkg', 'pkg-1.0');
const LIB = fakeStorePath('lib', 'lib-1.0');
const big = (seed: string) => {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < 1.1 * 1024 * 1024; i++) chunks.push(createHash('sha256').update(`${seed}${i}`).digest());
  return Buffer.concat(chunks);
};
const BIG_A = big('a');
const BIG_B = big('b');

/** The same content as a NAR tree and as a local store tree. */
const PKG_TREE: NarNode = dir({
  bin: dir({ tool: file('#!/bin/sh\necho tool\n', true), 'tool-link': link('tool') }),
  lib: dir({ 'libx.so': link(`${LIB}/lib/libx.so`) }),
  share: dir({
    // Same size and content (a hard link on disk), same size with other content, and big ones.
    'a.txt': file('same'),
    'b.txt': file('same'),
    'c.txt': file('diff'),
    'big-1': file(BIG_A),
    'big-2': file(BIG_B),
    'big-3': file(BIG_A),
    empty: file(''),
    'empty-dir': dir({}),
    'é ü 😀.txt': file('unicode'),
  }),
});
const LIB_TREE: NarNode = dir({ lib: dir({ 'libx.so': file('library') }) });

function toLocalTree(node: NarNode): Tree[string] {
  if (node.type === 'regular') return { file: node.contents, executable: node.executable ?? false };
  if (node.type === 'symlink') return { symlink: node.target };
  return Object.fromEntries(Object.entries(node.entries).map(([name, child]) => [name, toLocalTree(child)])) as Tree;
}

describe('BinaryCacheStoreReader', () => {
  let cache: FixtureCache;
  let local: TempStore;
  let spill: string;

  beforeAll(async () => {
    cache = await FixtureCache.create();
    await cache.add({ storePath: PKG, nar: narOf(PKG_TREE), references: [LIB, PKG] });
    await cache.add({ storePath: LIB, nar: narOf(LIB_TREE), compression: 'gzip' });
    local = await makeStore({ [PKG.slice(11)]: toLocalTree(PKG_TREE), [LIB.slice(11)]: toLocalTree(LIB_TREE) } as Tree);
    spill = await mkdtemp(join(tmpdir(), 'stowage-spill-'));
  });
  afterAll(async () => {
    await cache.cleanup();
    await local.cleanup();
    await rm(spill, { recursive: true, force: true });
  });

  const readerFor = (options: { keys?: string[]; allowUnsigned?: boolean; allowExternalSymlinks?: boolean; useListings?: boolean; memoryCaptureBytes?: number; maxNarSize?: number } = {}) =>
    new BinaryCacheStoreReader(binaryCacheFor(cache.url, { keys: options.keys ?? [cache.key.publicKey], ...(options.allowUnsigned ? { allowUnsigned: true } : {}), ...(options.maxNarSize ? { maxNarSize: options.maxNarSize } : {}) }), {
      allowExternalSymlinks: options.allowExternalSymlinks ?? false,
      useListings: options.useListings ?? true,
      tmpDir: spill,
      ...(options.memoryCaptureBytes !== undefined ? { memoryCaptureBytes: options.memoryCaptureBytes } : {}),
    });

  it.each(['xz', 'none', 'gzip'] as const)('builds byte-identical layers from %s NARs', async (compression) => {
    const storePath = fakeStorePath(`pkg-${compression}`, 'pkg-1.0');
    const other = await FixtureCache.create();
    try {
      await other.add({ storePath, nar: narOf(PKG_TREE), compression });
      const localCopy = await makeStore({ [storePath.slice(11)]: toLocalTree(PKG_TREE) } as Tree);
      try {
        const reader = new BinaryCacheStoreReader(binaryCacheFor(other.url, { keys: [other.key.publicKey] }), { allowExternalSymlinks: false, useListings: false });
        const store = new MemoryBlobStore();
        const fromCache = await writeStorePathLayer({ reader, storePaths: [storePath], compression: 'zstd', store });
        const fromDisk = await writeStorePathLayer({ reader: new LocalStoreReader(localCopy.dir), storePaths: [storePath], compression: 'zstd', store });
        expect(fromCache.digest).toBe(fromDisk.digest);
      } finally {
        await localCopy.cleanup();
      }
    } finally {
      await other.cleanup();
    }
  });

  it('yields the same entries as the local store reader', async () => {
    const fromCache = await readEntries(readerFor(), PKG);
    const fromDisk = await readEntries(new LocalStoreReader(local.dir), PKG);
    expect(fromCache).toEqual(fromDisk);
    expect(fromCache.map((entry) => entry.path.slice(PKG.length))).toContain('/share/é ü 😀.txt');
  });

  it.each([
    ['in memory', 64 * 1024 * 1024],
    ['spilled to disk', 1024],
  ])('builds byte-identical layers, re-reading same-size files kept %s', async (_how, memoryCaptureBytes) => {
    for (const compression of ['gzip', 'zstd'] as const) {
      const store = new MemoryBlobStore();
      const fromDisk = await writeStorePathLayer({ reader: new LocalStoreReader(local.dir), storePaths: [LIB, PKG], compression, store });
      const fromCache = await writeStorePathLayer({ reader: readerFor({ memoryCaptureBytes }), storePaths: [LIB, PKG], compression, store });
      expect(fromCache.digest).toBe(fromDisk.digest);
    }
    expect(await readdir(spill)).toEqual([]);
  });

  it('reads a file a second time from a new download when it was not kept', async () => {
    const reader = readerFor();
    for await (const entry of reader.entries(PKG)) {
      if (entry.kind !== 'file' || !entry.path.endsWith('big-1')) continue;
      const read = async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of entry.open()) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      };
      expect((await read()).equals(BIG_A)).toBe(true);
      expect((await read()).equals(BIG_A)).toBe(true);
    }
  });

  it('lists directories from a verified walk, from .ls files, or by walking the NAR', async () => {
    const expected = [{ name: 'tool', kind: 'file' }, { name: 'tool-link', kind: 'symlink' }];
    const walker = readerFor({ useListings: false });
    expect(await walker.list(`${PKG}/bin`)).toEqual(expected);
    expect(await walker.list(`${PKG}/share/empty-dir`)).toEqual([]);
    expect(await walker.list(`${PKG}/nope`)).toBeNull();
    expect(await walker.list(`${PKG}/share/a.txt`)).toBeNull();

    const remembered = readerFor({ useListings: false });
    await readEntries(remembered, PKG);
    expect(await remembered.list(`${PKG}/bin`)).toEqual(expected);

    const listing = { version: 1, root: { type: 'directory', entries: { bin: { type: 'directory', entries: { zz: { type: 'regular' }, aa: { type: 'symlink', target: 'zz' } } } } } };
    await writeFile(join(cache.dir, `${PKG.slice(11, 43)}.ls`), JSON.stringify(listing));
    try {
      expect(await readerFor().list(`${PKG}/bin`)).toEqual([{ name: 'aa', kind: 'symlink' }, { name: 'zz', kind: 'file' }]);
      await writeFile(join(cache.dir, `${PKG.slice(11, 43)}.ls`), '{"version":1,"root":{"type":"directory","entries":{"bin":{"type":"directory","entries":{"../x":{"type":"regular"}}}}}}');
      expect(await readerFor().list(`${PKG}/bin`)).toEqual(expected);
    } finally {
      await rm(join(cache.dir, `${PKG.slice(11, 43)}.ls`));
    }
    await expect(readerFor().list('/etc/passwd')).rejects.toThrow(BinaryCacheIntegrityError);
  });

  it('answers listings of a walked store path from memory, at any depth, without downloading it again', async () => {
    const binaryCache = binaryCacheFor(cache.url, { keys: [cache.key.publicKey] });
    const openNar = binaryCache.openNar.bind(binaryCache);
    let downloads = 0;
    binaryCache.openNar = (...args) => {
      downloads += 1;
      return openNar(...args);
    };
    const reader = new BinaryCacheStoreReader(binaryCache, { allowExternalSymlinks: false, useListings: false });
    await readEntries(reader, PKG);
    expect(downloads).toBe(1);
    expect(await reader.list(`${PKG}/etc/ssl/certs`)).toBeNull();
    expect(await reader.list(`${PKG}/share/empty-dir`)).toEqual([]);
    expect((await reader.list(`${PKG}/share`))?.map((entry) => entry.name)).toContain('big-1');
    expect(downloads).toBe(1);
    expect(await reader.list(`${LIB}/lib`)).toEqual([{ name: 'libx.so', kind: 'file' }]);
    expect(downloads).toBe(2);
    expect(await reader.list(`${LIB}/lib`)).toEqual([{ name: 'libx.so', kind: 'file' }]);
    expect(downloads).toBe(2);
  });

  it('refuses unsigned and untrusted narinfos unless allowed, and altered ones always', async () => {
    const unsigned = fakeStorePath('unsigned', 'unsigned');
    const untrusted = fakeStorePath('untrusted', 'untrusted');
    const wrong = fakeStorePath('wrong', 'wrong');
    await cache.add({ storePath: unsigned, nar: narOf(file('x')), signature: 'none' });
    await cache.add({ storePath: untrusted, nar: narOf(file('x')), signature: 'untrusted' });
    await cache.add({ storePath: wrong, nar: narOf(file('x')), signature: 'wrong' });
    await expect(readEntries(readerFor(), unsigned)).rejects.toThrow(UntrustedNarInfoError);
    await expect(readEntries(readerFor(), unsigned)).rejects.toThrow(/has no signature/);
    await expect(readEntries(readerFor(), untrusted)).rejects.toThrow(/no signature by a trusted key/);
    await expect(readEntries(readerFor(), wrong)).rejects.toThrow(/does not verify/);
    expect(await readEntries(readerFor({ allowUnsigned: true }), unsigned)).toHaveLength(1);
    expect(await readEntries(readerFor({ allowUnsigned: true }), untrusted)).toHaveLength(1);
    await expect(readEntries(readerFor({ allowUnsigned: true }), wrong)).rejects.toThrow(/does not verify/);
  });

  it('reports a missing narinfo, a missing NAR file and an invalid store path', async () => {
    await expect(readEntries(readerFor(), fakeStorePath('absent', 'absent'))).rejects.toThrow(NarInfoNotFoundError);
    const noNar = fakeStorePath('no-nar', 'no-nar');
    await cache.add({ storePath: noNar, nar: narOf(file('x')), edit: (fields) => fields.set('URL', 'nar/missing.nar.zst'), signAfterEdit: true });
    await expect(readEntries(readerFor(), noNar)).rejects.toThrow(/NAR file nar\/missing.nar.zst is missing/);
    await expect(readEntries(readerFor(), '/nix/store/not-a-store-path')).rejects.toThrow(/not a valid store path/);
  });

  /** A signed store path whose data is broken in some way; building a layer of it must commit nothing. */
  async function expectLayerFails(storePath: string, message: RegExp, reader = readerFor()): Promise<void> {
    const store = new MemoryBlobStore();
    await expect(writeStorePathLayer({ reader, storePaths: [storePath], compression: 'gzip', store })).rejects.toThrow(message);
    expect(store.digests()).toEqual([]);
  }

  it.each<[string, Omit<Parameters<FixtureCache['add']>[0], 'storePath'>, RegExp]>([
    ['a wrong NarHash', { nar: narOf(dir({ a: file('hello') })), edit: (f) => f.set('NarHash', `sha256:${'0'.repeat(52)}`), signAfterEdit: true }, /does not match its NarHash/],
    ['a NarSize larger than the NAR', { nar: narOf(dir({ a: file('hello') })), edit: (f) => f.set('NarSize', String(Number(f.get('NarSize')) + 8)), signAfterEdit: true }, /NarSize/],
    ['a NarSize smaller than the NAR', { nar: narOf(dir({ a: file('hello') })), edit: (f) => f.set('NarSize', String(Number(f.get('NarSize')) - 8)), signAfterEdit: true }, /longer than its NarSize|more than its NarSize/],
    ['an absurd NarSize', { nar: narOf(file('x')), edit: (f) => f.set('NarSize', String(2 ** 52)), signAfterEdit: true }, /above the limit/],
    ['a corrupted compressed NAR', { nar: narOf(dir({ a: file('hello') })), editFile: (b) => Buffer.concat([b.subarray(0, 20), Buffer.from([b[20]! ^ 0xff]), b.subarray(21)]) }, /FileHash|decompress/],
    ['a corrupted NAR without FileHash', { nar: narOf(dir({ a: file('hello'.repeat(50)) })), compression: 'none', editFile: (b) => Buffer.concat([b.subarray(0, 300), Buffer.from('X'), b.subarray(301)]), edit: (f) => { f.delete('FileHash'); f.delete('FileSize'); } }, /NarHash/],
    ['a truncated stream', { nar: narOf(dir({ a: file('hello'.repeat(1000)) })), editFile: (b) => b.subarray(0, b.length - 10) }, /truncated|FileSize|decompress/],
    ['a truncated xz stream', { nar: narOf(dir({ a: file(BIG_A) })), compression: 'xz', editFile: (b) => b.subarray(0, b.length - 100) }, /FileSize/],
    ['a truncated xz stream without FileSize', { nar: narOf(dir({ a: file(BIG_A) })), compression: 'xz', editFile: (b) => b.subarray(0, b.length - 100), edit: (f) => f.delete('FileSize') }, /decompress its xz NAR|truncated/],
    ['a corrupted xz stream', { nar: narOf(dir({ a: file('x'.repeat(100_000)) })), compression: 'xz', editFile: (b) => Buffer.concat([b.subarray(0, 60), Buffer.from([b[60]! ^ 0x55]), b.subarray(61)]) }, /decompress its xz NAR/],
    ['a ".." entry name', { nar: Buffer.concat([narTokens('nix-archive-1', '(', 'type', 'directory', 'entry', '(', 'name', '..', 'node', '(', 'type', 'regular', 'contents', 'x', ')', ')', ')')]) }, /invalid entry name "\.\."/],
    ['a "/" in an entry name', { nar: Buffer.concat([narTokens('nix-archive-1', '(', 'type', 'directory', 'entry', '(', 'name', 'etc/passwd', 'node', '(', 'type', 'regular', 'contents', 'x', ')', ')', ')')]) }, /invalid entry name "etc\/passwd"/],
    ['a symlink to /etc/shadow', { nar: narOf(dir({ bin: dir({ sh: link('/etc/shadow') }) })) }, /points outside \/nix\/store/],
    ['a relative symlink escaping the store', { nar: narOf(dir({ x: link('../../../etc/shadow') })) }, /points outside/],
    ['a symlink escaping through /nix/store/..', { nar: narOf(dir({ x: link('/nix/store/../../etc/shadow') })) }, /points outside/],
  ])('fails the layer on %s, committing nothing', async (what, options, message) => {
    const storePath = fakeStorePath(`bad ${what}`, 'bad');
    await cache.add({ storePath, ...options });
    await expectLayerFails(storePath, message);
  });

  it('stops a decompression bomb at its NarSize, having decoded no more than that', async () => {
    // 64 MiB of zeros compress to a few KiB; the signed narinfo claims a small NAR.
    const storePath = fakeStorePath('bomb', 'bomb');
    const bomb = narOf(file(Buffer.alloc(64 * 1024 * 1024)));
    await cache.add({ storePath, nar: bomb, edit: (f) => f.set('NarSize', '4096'), signAfterEdit: true });
    await expectLayerFails(storePath, /more than its NarSize 4096|longer than its NarSize/);
    // Memory stays bounded because the decoder never hands out more than the declared size:
    // counted in bytes, not measured in the process's resident set.
    const decoder = new NarDecoderStream('zstd', { zstdWindowLogMax: 27, xzMemlimit: 64 * 1024 * 1024, xzOutputBytes: 64 * 1024, maxOutput: 4096 });
    let decoded = 0;
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((decoded += chunk.length), done()) });
    await expect(pipeline(Readable.from([zstdCompress(bomb)]), decoder, sink)).rejects.toThrow(/more than its NarSize 4096/);
    expect(decoded).toBeLessThanOrEqual(4096);
  });

  it('throws an integrity error that names the store path and the cache', async () => {
    const storePath = fakeStorePath('named', 'named');
    await cache.add({ storePath, nar: narOf(dir({ a: file('hello') })), edit: (f) => f.set('NarHash', `sha256:${'1'.repeat(52)}`), signAfterEdit: true });
    const error = await readEntries(readerFor(), storePath).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BinaryCacheIntegrityError);
    expect((error as BinaryCacheIntegrityError).storePath).toBe(storePath);
    expect((error as Error).message).toContain(cache.url);
  });

  it('accepts symlinks into the store, and any symlink when allowed', async () => {
    const storePath = fakeStorePath('links', 'links');
    await cache.add({ storePath, nar: narOf(dir({ a: link('/nix/store/x-other/bin/sh'), b: link('../x-other/y'), c: link('does/not/exist'), d: link('/etc/ssl/certs') })) });
    await expect(readEntries(readerFor(), storePath)).rejects.toThrow(/"\/etc\/ssl\/certs"/);
    expect(await readEntries(readerFor({ allowExternalSymlinks: true }), storePath)).toHaveLength(5);
  });
});
