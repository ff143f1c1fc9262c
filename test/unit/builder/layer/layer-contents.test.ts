import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStorePathLayer, type LayerBlob } from '../../../../src/builder/layer/index.js';
import { LocalStoreReader } from '../../../../src/sources/local-store-reader.js';
import { MemoryBlobStore } from '../../../../src/storage/memory-blob-store.js';
import { byName, layerTar, makeStore, untar, type Node, type TarItem, type TempStore, type Tree } from './layer-test-support.js';

const LONG_COMPONENT = 'l'.repeat(150);
const DEEP = 'deeply/nested/directories/to/make/a/path/longer/than/one/hundred/bytes/in/total/yes';
const UNICODE = 'ünïcødé ☃';
const BIG = Buffer.alloc(1536 * 1024, 'abc');
const BIG_OTHER = Buffer.alloc(1536 * 1024, 'abd');

describe('store-path layer contents', () => {
  let fake: TempStore;
  let tar: Buffer;
  let items: TarItem[];
  let entries: Map<string, TarItem>;
  const store = new MemoryBlobStore();

  beforeAll(async () => {
    fake = await makeStore({
      'bbb-second': {
        share: {
          big: { file: BIG },
          'big-other': { file: BIG_OTHER },
          'same-as-first': { file: 'same content\n' },
        },
      },
      'aaa-first': {
        bin: { hello: { file: '#!/bin/sh\necho hello\n', executable: true } },
        big: { file: BIG },
        share: {
          data: { file: 'same content\n' },
          'data-copy': { file: 'same content\n' },
          'data-exec': { file: 'same content\n', executable: true },
          'data-other': { file: 'diff content\n' },
          'long-copy': { file: 'long\n' },
          empty: { file: '' },
          empty2: { file: '' },
          inode: { hardLinkTo: 'aaa-first/share/data-other' },
        },
        link: { symlink: '/nix/store/bbb-second/share' },
        'long-link': { symlink: `/nix/store/bbb-second/${LONG_COMPONENT}` },
        [LONG_COMPONENT]: { file: 'long\n' },
        [UNICODE]: { file: 'snow\n' },
        ...nested(DEEP, { file: 'deep\n' }),
      },
    });
    const blob: LayerBlob = await writeStorePathLayer({
      reader: new LocalStoreReader(fake.dir),
      storePaths: ['/nix/store/bbb-second', '/nix/store/aaa-first'],
      compression: 'gzip',
      store,
    });
    tar = await layerTar(store, blob);
    items = await untar(tar);
    entries = byName(items);
  });
  afterAll(() => fake.cleanup());

  it('starts with nix/ and nix/store/, then store paths sorted, each in NAR order', () => {
    const names = items.map((item) => item.header.name);
    const a = 'nix/store/aaa-first';
    expect(names.slice(0, 10)).toEqual(['nix/', 'nix/store/', `${a}/`, `${a}/big`, `${a}/bin/`, `${a}/bin/hello`, `${a}/deeply/`, `${a}/deeply/nested/`, `${a}/deeply/nested/directories/`, `${a}/deeply/nested/directories/to/`]);
    const after = names.slice(names.indexOf(`${a}/${DEEP}`));
    expect(after).toEqual([
      `${a}/${DEEP}`,
      `${a}/link`,
      `${a}/${LONG_COMPONENT}`,
      `${a}/long-link`,
      `${a}/share/`,
      `${a}/share/data`,
      `${a}/share/data-copy`,
      `${a}/share/data-exec`,
      `${a}/share/data-other`,
      `${a}/share/empty`,
      `${a}/share/empty2`,
      `${a}/share/inode`,
      `${a}/share/long-copy`,
      `${a}/${UNICODE}`,
      'nix/store/bbb-second/',
      'nix/store/bbb-second/share/',
      'nix/store/bbb-second/share/big',
      'nix/store/bbb-second/share/big-other',
      'nix/store/bbb-second/share/same-as-first',
    ]);
  });

  it('normalises modes, owners and mtimes', () => {
    const mode = (name: string): string | undefined => entries.get(name)?.header.mode?.toString(8);
    expect(mode('nix/')).toBe('755');
    expect(mode('nix/store/')).toBe('755');
    expect(mode('nix/store/aaa-first/')).toBe('555');
    expect(mode('nix/store/aaa-first/bin/hello')).toBe('555');
    expect(mode('nix/store/aaa-first/share/data')).toBe('444');
    expect(mode('nix/store/aaa-first/link')).toBe('777');
    for (const { header } of items) {
      expect(header).toMatchObject({ uid: 0, gid: 0, uname: '', gname: '' });
      expect(header.mtime?.getTime()).toBe(1000);
    }
  });

  it('keeps symlink targets and file contents', () => {
    expect(entries.get('nix/store/aaa-first/link')?.header).toMatchObject({ type: 'symlink', linkname: '/nix/store/bbb-second/share' });
    expect(entries.get('nix/store/aaa-first/bin/hello')?.content.toString()).toBe('#!/bin/sh\necho hello\n');
    expect(entries.get('nix/store/aaa-first/big')?.content.equals(BIG)).toBe(true);
    expect(entries.get('nix/store/bbb-second/share/big-other')?.content.equals(BIG_OTHER)).toBe(true);
  });

  it('writes later identical files as hard links to the first, by content', () => {
    const linkTo = (name: string): string | null | undefined => {
      const header = entries.get(name)?.header;
      return header?.type === 'link' ? header.linkname : null;
    };
    expect(linkTo('nix/store/aaa-first/share/data')).toBeNull();
    expect(linkTo('nix/store/aaa-first/share/data-copy')).toBe('nix/store/aaa-first/share/data');
    // Across store paths of one layer, and for a file read twice (> 1 MiB, same size).
    expect(linkTo('nix/store/bbb-second/share/same-as-first')).toBe('nix/store/aaa-first/share/data');
    expect(linkTo('nix/store/bbb-second/share/big')).toBe('nix/store/aaa-first/big');
    // Same content with another executable bit, same size with other content: not links.
    expect(linkTo('nix/store/aaa-first/share/data-exec')).toBeNull();
    expect(linkTo('nix/store/bbb-second/share/big-other')).toBeNull();
    // An inode-level hard link is written as a link only because the contents are equal.
    expect(linkTo('nix/store/aaa-first/share/data-other')).toBeNull();
    expect(linkTo('nix/store/aaa-first/share/inode')).toBe('nix/store/aaa-first/share/data-other');
    // Empty files are never linked.
    expect(entries.get('nix/store/aaa-first/share/empty2')?.header.type).toBe('file');
  });

  it('round-trips long and non-ASCII names through tar-stream', () => {
    expect(entries.get(`nix/store/aaa-first/long-link`)?.header.linkname).toBe(`/nix/store/bbb-second/${LONG_COMPONENT}`);
    expect(entries.get(`nix/store/aaa-first/share/long-copy`)?.header).toMatchObject({ type: 'link', linkname: `nix/store/aaa-first/${LONG_COMPONENT}` });
    expect(entries.get(`nix/store/aaa-first/${LONG_COMPONENT}`)?.content.toString()).toBe('long\n');
    expect(entries.get(`nix/store/aaa-first/${UNICODE}`)?.content.toString()).toBe('snow\n');
    expect(entries.get(`nix/store/aaa-first/${DEEP}`)?.content.toString()).toBe('deep\n');
  });

  it('is read the same way by GNU tar, including hard links and long names', async () => {
    const listing = execFileSync('tar', ['-tvf', '-', '--quoting-style=literal', '--full-time'], { input: tar, env: { ...process.env, LC_ALL: 'C.UTF-8' } }).toString('utf8');
    expect(listing).toContain(`-r-xr-xr-x 0/0              21 1970-01-01 00:00:01 nix/store/aaa-first/bin/hello\n`);
    expect(listing).toContain(`nix/store/bbb-second/share/same-as-first link to nix/store/aaa-first/share/data\n`);
    expect(listing).toContain(`nix/store/aaa-first/${LONG_COMPONENT}\n`);
    expect(listing).toContain(`nix/store/aaa-first/${UNICODE}\n`);
    expect(listing).toContain(`nix/store/aaa-first/${DEEP}\n`);
    expect(listing).toContain(`lrwxrwxrwx 0/0               0 1970-01-01 00:00:01 nix/store/aaa-first/link -> /nix/store/bbb-second/share\n`);
    expect(listing).toContain(`nix/store/aaa-first/long-link -> /nix/store/bbb-second/${LONG_COMPONENT}\n`);
    expect(listing).toContain(`nix/store/aaa-first/share/long-copy link to nix/store/aaa-first/${LONG_COMPONENT}\n`);

    const out = await mkdtemp(path.join(tmpdir(), 'stowage-untar-'));
    try {
      const layerFile = path.join(out, 'layer.tar');
      await writeFile(layerFile, tar);
      execFileSync('tar', ['-xf', layerFile, '-C', out]);
      const first = await stat(path.join(out, 'nix/store/aaa-first/share/data'));
      const linked = await stat(path.join(out, 'nix/store/bbb-second/share/same-as-first'));
      expect(linked.ino).toBe(first.ino);
      expect((await stat(path.join(out, `nix/store/aaa-first/${UNICODE}`))).size).toBe(5);
      const longFile = await stat(path.join(out, `nix/store/aaa-first/${LONG_COMPONENT}`));
      expect((await stat(path.join(out, 'nix/store/aaa-first/share/long-copy'))).ino).toBe(longFile.ino);
    } finally {
      execFileSync('chmod', ['-R', 'u+w', out]);
      await rm(out, { recursive: true, force: true });
    }
  });
});

/** `{a: {b: {c: leaf}}}` for the path `a/b/c`. */
function nested(pathName: string, leaf: Node): Tree {
  const [head = '', ...rest] = pathName.split('/');
  return { [head]: rest.length === 0 ? leaf : nested(rest.join('/'), leaf) };
}
