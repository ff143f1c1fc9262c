import { afterAll, describe, expect, it } from 'vitest';
import type { StoreReader } from '../../src/sources/types.js';
import { dir, fakeStorePath, file, link, readEntries, type NarNode } from '../support/binary-cache-fixtures.js';

/** Store paths every StoreReader contract run reads: full path → contents. */
export type StoreContents = ReadonlyMap<string, NarNode>;

export const PKG = fakeStorePath('contract-pkg', 'pkg-1.0');
export const LIB = fakeStorePath('contract-lib', 'lib-1.0');
export const SINGLE_FILE = fakeStorePath('contract-file', 'script');
export const SINGLE_LINK = fakeStorePath('contract-link', 'alias');
const MISSING = fakeStorePath('contract-missing', 'missing-1.0');

const BIG = Buffer.alloc(300 * 1024, 7);

export const STORE_CONTENTS: StoreContents = new Map<string, NarNode>([
  [
    PKG,
    dir({
      // JS (UTF-16) order: '\u{1F600}' < '\uFF21'; byte (UTF-8) order, NAR's: '\uFF21' < '\u{1F600}'.
      B: file('B'),
      Z: file('Z'),
      a: file('a'),
      é: file('e'),
      '\u{1F600}': file('emoji'),
      '\uFF21': file('fullwidth'),
      bin: dir({ tool: file('#!/bin/sh\necho tool\n', true), 'tool-link': link('tool') }),
      lib: dir({ 'big.bin': file(BIG), empty: file(''), 'libx.so': link(`${LIB}/lib/libx.so`) }),
      'empty-dir': dir({}),
    }),
  ],
  [LIB, dir({ lib: dir({ 'libx.so': file('library') }) })],
  [SINGLE_FILE, file('#!/bin/sh\necho a store path that is a file\n', true)],
  [SINGLE_LINK, link(PKG)],
]);

/** The entries a reader must yield for `node` at `at`, in NAR order, with file contents. */
function expectedEntries(at: string, node: NarNode): Awaited<ReturnType<typeof readEntries>> {
  if (node.type === 'regular') return [{ kind: 'file', path: at, content: node.contents.toString(), executable: node.executable ?? false }];
  if (node.type === 'symlink') return [{ kind: 'symlink', path: at, target: node.target }];
  const names = Object.keys(node.entries).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  return [{ kind: 'directory', path: at }, ...names.flatMap((name) => expectedEntries(`${at}/${name}`, node.entries[name] as NarNode))];
}

export interface StoreReaderFixture {
  readonly reader: StoreReader;
  cleanup(): Promise<void>;
}

/**
 * The contract every StoreReader keeps (src/sources/types.ts), run on one implementation:
 * `factory` lays STORE_CONTENTS out in the implementation's own medium (a store directory, a
 * binary cache, a `.deb`) and returns a reader of it. Readers of the same contents agree.
 */
export function describeStoreReaderContract(name: string, factory: (contents: StoreContents) => Promise<StoreReaderFixture>): void {
  describe(`StoreReader contract: ${name}`, () => {
    let fixture: Promise<StoreReaderFixture> | undefined;
    const reader = async (): Promise<StoreReader> => (await (fixture ??= factory(STORE_CONTENTS))).reader;
    afterAllCleanup(() => fixture);

    it.each([...STORE_CONTENTS.keys()])('yields the entries of %s in NAR order, the store path first', async (storePath) => {
      const entries = await readEntries(await reader(), storePath);
      expect(entries).toEqual(expectedEntries(storePath, STORE_CONTENTS.get(storePath) as NarNode));
    });

    it('reports file sizes and opens a file more than once', async () => {
      for await (const entry of (await reader()).entries(PKG)) {
        if (entry.kind !== 'file' || !entry.path.endsWith('/big.bin')) continue;
        expect(entry.size).toBe(BIG.length);
        for (let round = 0; round < 2; round++) {
          const chunks: Buffer[] = [];
          for await (const chunk of entry.open()) chunks.push(chunk as Buffer);
          expect(Buffer.concat(chunks).equals(BIG)).toBe(true);
        }
      }
    });

    it('reads several store paths at once', async () => {
      const r = await reader();
      const results = await Promise.all([readEntries(r, PKG), readEntries(r, LIB), readEntries(r, PKG)]);
      expect(results).toEqual([PKG, LIB, PKG].map((storePath) => expectedEntries(storePath, STORE_CONTENTS.get(storePath) as NarNode)));
    });

    it('can stop a walk early and walk again', async () => {
      const r = await reader();
      for await (const entry of r.entries(PKG)) if (entry.kind === 'file') break;
      expect(await readEntries(r, PKG)).toEqual(expectedEntries(PKG, STORE_CONTENTS.get(PKG) as NarNode));
    });

    it('lists a directory in byte order with kinds', async () => {
      const r = await reader();
      expect(await r.list(`${PKG}/bin`)).toEqual([
        { name: 'tool', kind: 'file' },
        { name: 'tool-link', kind: 'symlink' },
      ]);
      expect((await r.list(PKG))?.map((entry) => entry.name)).toEqual(['B', 'Z', 'a', 'bin', 'empty-dir', 'lib', 'é', '\uFF21', '\u{1F600}']);
      expect(await r.list(`${PKG}/empty-dir`)).toEqual([]);
    });

    it('lists null for a missing directory, a file and a symlink', async () => {
      const r = await reader();
      expect(await r.list(`${PKG}/nope`)).toBeNull();
      expect(await r.list(`${PKG}/a`)).toBeNull();
      expect(await r.list(`${PKG}/bin/tool-link`)).toBeNull();
      expect(await r.list(SINGLE_FILE)).toBeNull();
      expect(await r.list(SINGLE_LINK)).toBeNull();
    });

    it('fails on a store path it does not have, and on a path outside the store', async () => {
      const r = await reader();
      await expect(readEntries(r, MISSING)).rejects.toThrow();
      await expect(readEntries(r, '/etc/passwd')).rejects.toThrow();
      await expect(r.list('/etc')).rejects.toThrow();
    });
  });
}

function afterAllCleanup(fixture: () => Promise<StoreReaderFixture> | undefined): void {
  afterAll(async () => {
    await (await fixture())?.cleanup();
  });
}
