import { chmod, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRootFsLayer } from '../../../../src/builder/layer/index.js';
import { DebReader } from '../../../../src/sources/debian/deb-reader.js';
import { debianPathOf } from '../../../../src/sources/debian/package-path.js';
import type { DebianPackage } from '../../../../src/sources/debian/types.js';
import { MemoryBlobStore } from '../../../../src/storage/memory-blob-store.js';
import { run } from '../../../support/commands.js';
import { byName, layerTar, untar } from '../../builder/layer/layer-test-support.js';

/** A package stanza for a `.deb` built here; only the identity fields matter to the reader. */
function stanza(name: string, version: string): DebianPackage {
  return {
    name, version, architecture: 'amd64', filename: '', sha256: '0'.repeat(64), size: 0, installedSize: 0, depends: '', preDepends: '',
    provides: '', essential: false, priority: 'optional', section: 'misc', description: '', multiArch: '', source: '', homepage: '', suite: 'bookworm', archiveUrl: '',
  };
}

const TOOL_MD5SUMS = 'd41d8cd98f00b204e9800998ecf8427e  usr/share/doc/tool/README\n';

/** Build a real `.deb` with dpkg-deb (xz or zstd data tar) from a tree laid out by `fill`. */
async function buildDeb(work: string, name: string, compression: 'xz' | 'zstd' | 'gzip', fill: (root: string) => Promise<void>, md5sums?: string): Promise<string> {
  const root = join(work, name);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  if (md5sums !== undefined) await writeFile(join(root, 'DEBIAN/md5sums'), md5sums);
  await writeFile(join(root, 'DEBIAN/control'), `Package: ${name}\nVersion: 1:1.0-1\nArchitecture: amd64\nMaintainer: Test <t@example.invalid>\nDescription: test package\n long text\n`);
  await fill(root);
  const deb = join(work, `${name}.deb`);
  await run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, deb]);
  return deb;
}

describe('Debian packages as root-filesystem layers', () => {
  let work: string;
  const debs = new Map<string, string>();
  const packages = new Map<string, DebianPackage>();
  let reader: DebReader;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-deb-'));
    const tool = await buildDeb(work, 'tool', 'xz', async (root) => {
      await mkdir(join(root, 'bin'), { recursive: true });
      await mkdir(join(root, 'lib/x86_64-linux-gnu'), { recursive: true });
      await mkdir(join(root, 'usr/share/doc/tool'), { recursive: true });
      await writeFile(join(root, 'bin/tool'), '#!/bin/sh\necho tool\n');
      await chmod(join(root, 'bin/tool'), 0o4755);
      await link(join(root, 'bin/tool'), join(root, 'bin/tool2'));
      await writeFile(join(root, 'usr/lib-real'), 'x');
      await writeFile(join(root, 'lib/x86_64-linux-gnu/libt.so.1'), Buffer.alloc(200_000, 7));
      await symlink('../../usr/share/doc/tool/README', join(root, 'lib/x86_64-linux-gnu/readme'));
      await writeFile(join(root, 'usr/share/doc/tool/README'), 'read me\n');
    }, TOOL_MD5SUMS);
    const other = await buildDeb(work, 'other', 'zstd', async (root) => {
      await mkdir(join(root, 'usr/share/doc/other'), { recursive: true });
      await writeFile(join(root, 'usr/share/doc/other/README'), 'other\n');
    });
    for (const [name, file] of [['tool', tool], ['other', other]] as const) {
      // `other` is Multi-Arch: same, so dpkg names its info files `other:amd64.*`.
      const pkg = { ...stanza(name, '1:1.0-1'), multiArch: name === 'other' ? 'same' : '' };
      packages.set(debianPathOf(pkg), pkg);
      debs.set(name, file);
    }
    reader = new DebReader({ fetch: async (pkg) => debs.get(pkg.name) as string }, packages);
  }, 60_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const write = (store: MemoryBlobStore) =>
    writeRootFsLayer({ reader, paths: [...packages.keys()].reverse(), compression: 'gzip', store });

  it('names packages by name, escaped version and architecture', () => {
    expect([...packages.keys()]).toEqual(['/debian/tool_1%3a1.0-1_amd64', '/debian/other_1%3a1.0-1_amd64']);
  });

  it('writes files at their usr-merged real paths with modes, hard links and symlinks kept', async () => {
    const store = new MemoryBlobStore();
    const items = byName(await untar(await layerTar(store, await write(store))));
    expect(items.has('bin/tool')).toBe(false);
    const tool = items.get('usr/bin/tool');
    expect(tool?.header.mode).toBe(0o4755);
    expect(tool?.header.uid).toBe(0);
    expect(tool?.content.toString()).toBe('#!/bin/sh\necho tool\n');
    // The package's own hard link, with its target usr-merged too.
    expect(items.get('usr/bin/tool2')?.header.type).toBe('link');
    expect(items.get('usr/bin/tool2')?.header.linkname).toBe('usr/bin/tool');
    expect(items.get('usr/lib/x86_64-linux-gnu/libt.so.1')?.content.length).toBe(200_000);
    // The relative link moved from lib/ to usr/lib/ and still reaches the same file.
    expect(items.get('usr/lib/x86_64-linux-gnu/readme')?.header.linkname).toBe('../../share/doc/tool/README');
    expect(items.get('usr/share/doc/other/README')?.content.toString()).toBe('other\n');
    // Shared parents appear once, with Debian's 0755 root.
    const names = [...(await untar(await layerTar(store, await write(store)))).map((item) => item.header.name)];
    expect(names.filter((name) => name === 'usr/share/doc/')).toHaveLength(1);
    expect(items.get('usr/share/doc/')?.header.mode).toBe(0o755);
    expect(names.some((name) => name.startsWith('./') || name.startsWith('/'))).toBe(false);
  });

  it('gives the same bytes for the same packages, whatever their order', async () => {
    const first = await write(new MemoryBlobStore());
    const second = await writeRootFsLayer({ reader, paths: [...packages.keys()], compression: 'gzip', store: new MemoryBlobStore() });
    expect(second.digest).toBe(first.digest);
    expect(second.diffId).toBe(first.diffId);
  });

  it('reads the control file dpkg would record', async () => {
    const control = await reader.control('/debian/tool_1%3a1.0-1_amd64');
    expect(control).toContain('Maintainer: Test <t@example.invalid>');
    expect(control).toContain(' long text');
  });

  it("records dpkg's file list (paths as shipped) and the package's md5sums in its own layer", async () => {
    const store = new MemoryBlobStore();
    const items = byName(await untar(await layerTar(store, await write(store))));
    const list = items.get('var/lib/dpkg/info/tool.list')?.content.toString().split('\n');
    expect(list?.slice(0, 3)).toEqual(['/.', '/bin', '/bin/tool']);
    expect(list).toEqual(expect.arrayContaining(['/bin/tool2', '/lib/x86_64-linux-gnu/libt.so.1', '/usr/share/doc/tool/README', '']));
    expect(list?.some((line) => line.endsWith('/') && line !== '/')).toBe(false);
    expect(items.get('var/lib/dpkg/info/tool.list')?.header.mode).toBe(0o644);
    expect(items.get('var/lib/dpkg/info/tool.md5sums')?.content.toString()).toBe(TOOL_MD5SUMS);
    // Multi-Arch: same names carry the architecture; no md5sums shipped, none written.
    expect(items.get('var/lib/dpkg/info/other:amd64.list')?.content.toString()).toBe('/.\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/other\n/usr/share/doc/other/README\n');
    expect([...items.keys()].filter((name) => name.startsWith('var/lib/dpkg/info/other'))).toEqual(['var/lib/dpkg/info/other:amd64.list']);
  });
});
