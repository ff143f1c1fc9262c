import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidStorePathError,
  LocalStoreReader,
  UnsupportedStoreEntryError,
} from '../../../src/sources/local-store-reader.js';
import type { StoreEntry } from '../../../src/sources/types.js';
import { makeStore, type TempStore } from '../builder/layer/layer-test-support.js';

const S = '/nix/store';

async function collect(reader: LocalStoreReader, storePath: string): Promise<StoreEntry[]> {
  const entries: StoreEntry[] = [];
  for await (const entry of reader.entries(storePath)) entries.push(entry);
  return entries;
}

async function bytesOf(entry: StoreEntry | undefined): Promise<Buffer> {
  if (entry?.kind !== 'file') throw new Error('not a file');
  const chunks: Buffer[] = [];
  for await (const chunk of entry.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function contents(entry: StoreEntry): Promise<string> {
  return (await bytesOf(entry)).toString('utf8');
}

describe('LocalStoreReader', () => {
  let store: TempStore;
  let reader: LocalStoreReader;
  const big = Buffer.alloc(300 * 1024, 7);

  beforeAll(async () => {
    store = await makeStore({
      'aaa-pkg': {
        // JS (UTF-16) order: '\u{1F600}' < '\uFF21'; byte (UTF-8) order: '\uFF21' < '\u{1F600}'.
        'B': { file: 'B' },
        'Z': { file: 'Z' },
        'a': { file: 'a' },
        'é': { file: 'e' },
        '\u{1F600}': { file: 'emoji' },
        '\uFF21': { file: 'fullwidth' },
        bin: { tool: { file: '#!/bin/sh\n', executable: true } },
        lib: { 'big.bin': { file: big }, empty: { file: '' } },
        link: { symlink: '../bbb-other/x' },
      },
      'bbb-file': { file: 'a store path that is a file\n', executable: true },
      'ccc-link': { symlink: 'aaa-pkg' },
    });
    reader = new LocalStoreReader(store.dir);
  });
  afterAll(() => store.cleanup());

  it('yields NAR order: directory first, children by UTF-8 bytes, depth first', async () => {
    const paths = (await collect(reader, `${S}/aaa-pkg`)).map((entry) => entry.path.slice(`${S}/aaa-pkg`.length));
    expect(paths).toEqual(['', '/B', '/Z', '/a', '/bin', '/bin/tool', '/lib', '/lib/big.bin', '/lib/empty', '/link', '/é', '/\uFF21', '/\u{1F600}']);
    // The same names sorted as JS strings would put the emoji first: the reader must not.
    expect(['\uFF21', '\u{1F600}'].sort()).toEqual(['\u{1F600}', '\uFF21']);
  });

  it('reports kinds, sizes, executable bits and symlink targets from lstat', async () => {
    const entries = new Map((await collect(reader, `${S}/aaa-pkg`)).map((entry) => [entry.path, entry]));
    expect(entries.get(`${S}/aaa-pkg`)).toEqual({ kind: 'directory', path: `${S}/aaa-pkg` });
    expect(entries.get(`${S}/aaa-pkg/bin/tool`)).toMatchObject({ kind: 'file', size: 10, executable: true });
    expect(entries.get(`${S}/aaa-pkg/a`)).toMatchObject({ kind: 'file', size: 1, executable: false });
    expect(entries.get(`${S}/aaa-pkg/lib/empty`)).toMatchObject({ kind: 'file', size: 0 });
    expect(entries.get(`${S}/aaa-pkg/link`)).toEqual({ kind: 'symlink', path: `${S}/aaa-pkg/link`, target: '../bbb-other/x' });
  });

  it('opens small and large files more than once', async () => {
    const entries = await collect(reader, `${S}/aaa-pkg`);
    const small = entries.find((entry) => entry.path.endsWith('/bin/tool'));
    const large = entries.find((entry) => entry.path.endsWith('/big.bin'));
    if (!small || !large) throw new Error('missing entries');
    expect(await contents(small)).toBe('#!/bin/sh\n');
    expect(await contents(small)).toBe('#!/bin/sh\n');
    expect((await bytesOf(large)).equals(big)).toBe(true);
    expect((await bytesOf(large)).equals(big)).toBe(true);
  });

  it('reads every file again from disk once the walk is over, inline ones included', async () => {
    const entries = await collect(reader, `${S}/aaa-pkg`);
    const again = async (suffix: string): Promise<Buffer> => {
      const entry = entries.find((candidate) => candidate.path.endsWith(suffix));
      if (entry?.kind !== 'file' || !entry.reopen) throw new Error(`${suffix}: no reopen`);
      const chunks: Buffer[] = [];
      for await (const chunk of entry.reopen()) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    // /bin/tool came inline with its batch; what reopen() gives must come from the file, which
    // a rewrite shows (the store is immutable in use; here it proves where the bytes come from).
    expect(entries.find((entry) => entry.path.endsWith('/bin/tool'))).toMatchObject({ bytes: Buffer.from('#!/bin/sh\n') });
    await writeFile(path.join(store.dir, 'aaa-pkg/bin/tool'), '#!/bin/ZZ\n');
    try {
      expect((await again('/bin/tool')).toString()).toBe('#!/bin/ZZ\n');
    } finally {
      await writeFile(path.join(store.dir, 'aaa-pkg/bin/tool'), '#!/bin/sh\n');
    }
    expect((await again('/lib/big.bin')).equals(big)).toBe(true);
    expect((await again('/lib/empty')).length).toBe(0);
    const single = await collect(reader, `${S}/bbb-file`);
    expect(single[0]?.kind === 'file' && single[0].reopen !== undefined).toBe(true);
  });

  it('reads store paths that are a single file or a symlink', async () => {
    const file = await collect(reader, `${S}/bbb-file`);
    expect(file).toHaveLength(1);
    expect(file[0]).toMatchObject({ kind: 'file', path: `${S}/bbb-file`, executable: true });
    expect(await collect(reader, `${S}/ccc-link`)).toEqual([{ kind: 'symlink', path: `${S}/ccc-link`, target: 'aaa-pkg' }]);
  });

  it.each([`${S}/aaa-pkg/bin`, `${S}/../etc`, `${S}/..`, `${S}/`, '/elsewhere/aaa-pkg', 'aaa-pkg', `${S}/a\0b`])(
    'rejects %j, which is not directly inside the store',
    (storePath) => {
      expect(() => reader.entries(storePath)).toThrow(InvalidStorePathError);
    },
  );

  it('rejects fifos with a clear error', async () => {
    const fifoStore = await makeStore({ 'ddd-fifo': { ok: { file: 'x' } } });
    try {
      execFileSync('mkfifo', [path.join(fifoStore.dir, 'ddd-fifo', 'pipe')]);
      const fifoReader = new LocalStoreReader(fifoStore.dir);
      await expect(collect(fifoReader, `${S}/ddd-fifo`)).rejects.toThrow(UnsupportedStoreEntryError);
      await expect(collect(fifoReader, `${S}/ddd-fifo`)).rejects.toThrow(/ddd-fifo\/pipe.*not a regular file/);
    } finally {
      await fifoStore.cleanup();
    }
  });

  it('rejects names that are not valid UTF-8', async () => {
    const odd = await makeStore({ 'eee-odd': {} });
    try {
      await writeFile(Buffer.concat([Buffer.from(path.join(odd.dir, 'eee-odd') + '/'), Buffer.from([0xff, 0xfe])]), 'x');
      await expect(collect(new LocalStoreReader(odd.dir), `${S}/eee-odd`)).rejects.toThrow(/not valid UTF-8/);
    } finally {
      await odd.cleanup();
    }
  });

  it('maps a logical store dir onto the real directory', async () => {
    const custom = new LocalStoreReader(store.dir, '/custom/store');
    const entries = await collect(custom, '/custom/store/bbb-file');
    expect(entries[0]?.path).toBe('/custom/store/bbb-file');
    expect(() => custom.entries(`${S}/bbb-file`)).toThrow(InvalidStorePathError);
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    const iterator = reader.entries(`${S}/aaa-pkg`, controller.signal)[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort(new Error('stop'));
    await expect(iterator.next()).rejects.toThrow('stop');
  });

  it('walks store paths larger than one batch, with contents intact', async () => {
    const files: Record<string, { file: Buffer }> = {};
    // More entries than one batch holds (1024), and more inline bytes (4 MiB) than one carries.
    for (let i = 0; i < 1030; i++) files[`f${String(i).padStart(4, '0')}`] = { file: Buffer.alloc((i * 61) % 8000, i % 251) };
    for (let i = 0; i < 5; i++) files[`m${i}`] = { file: Buffer.alloc(900 * 1024, 100 + i) };
    files['large'] = { file: Buffer.alloc(1024 * 1024 + 1, 9) };
    const many = await makeStore({ 'fff-many': files });
    try {
      const entries = await collect(new LocalStoreReader(many.dir), `${S}/fff-many`);
      expect(entries).toHaveLength(1037);
      const names = entries.map((entry) => entry.path.split('/').pop() ?? '');
      expect(names).toEqual(['fff-many', ...Object.keys(files).sort()]);
      for (const index of [1, 300, 1023, 1024, 1025, 1030, ...[1031, 1032, 1033, 1034, 1035, 1036]]) {
        const entry = entries[index];
        const name = names[index] ?? '';
        expect((await bytesOf(entry)).equals(files[name]?.file ?? Buffer.alloc(1))).toBe(true);
      }
      // Files up to 1 MiB come with the walk, the same bytes open() streams; larger ones do not.
      const inline = (name: string): Buffer | undefined => {
        const entry = entries[names.indexOf(name)];
        return entry?.kind === 'file' ? entry.bytes : undefined;
      };
      expect(inline('m3')?.equals(files['m3']?.file ?? Buffer.alloc(0))).toBe(true);
      expect(inline('f0007')?.equals(files['f0007']?.file ?? Buffer.alloc(0))).toBe(true);
      expect(inline('large')).toBeUndefined();
    } finally {
      await many.cleanup();
    }
  });

  it('can stop a walk early and walk again', async () => {
    for await (const entry of reader.entries(`${S}/aaa-pkg`)) {
      if (entry.path.endsWith('/bin')) break;
    }
    const again = await collect(reader, `${S}/aaa-pkg`);
    expect(again).toHaveLength(13);
    expect(await collect(reader, `${S}/bbb-file`)).toHaveLength(1);
  });

  it('walks several store paths at once', async () => {
    const results = await Promise.all([collect(reader, `${S}/aaa-pkg`), collect(reader, `${S}/bbb-file`), collect(reader, `${S}/aaa-pkg`)]);
    expect(results.map((entries) => entries.length)).toEqual([13, 1, 13]);
  });

  it('reports a missing store path', async () => {
    await expect(collect(reader, `${S}/zzz-missing`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  describe('list', () => {
    it('lists a directory in byte order with kinds', async () => {
      expect(await reader.list(`${S}/aaa-pkg/bin`)).toEqual([{ name: 'tool', kind: 'file' }]);
      const root = await reader.list(`${S}/aaa-pkg`);
      expect(root?.map((entry) => entry.name)).toEqual(['B', 'Z', 'a', 'bin', 'lib', 'link', 'é', '\uFF21', '\u{1F600}']);
      expect(root?.find((entry) => entry.name === 'link')?.kind).toBe('symlink');
    });

    it('gives null for missing paths, files and symlinks', async () => {
      expect(await reader.list(`${S}/aaa-pkg/nope`)).toBeNull();
      expect(await reader.list(`${S}/bbb-file/bin`)).toBeNull();
      expect(await reader.list(`${S}/aaa-pkg/a`)).toBeNull();
      expect(await reader.list(`${S}/ccc-link`)).toBeNull();
    });

    it('rejects paths outside a store path', async () => {
      await expect(reader.list(`${S}/aaa-pkg/../x`)).rejects.toThrow(InvalidStorePathError);
      await expect(reader.list('/etc')).rejects.toThrow(InvalidStorePathError);
    });
  });
});
