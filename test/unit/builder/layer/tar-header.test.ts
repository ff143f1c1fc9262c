import { pack as createPack, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { encodeTarHeader, type TarHeader } from '../../../../src/builder/layer/tar-header.js';
import { TarOutput } from '../../../../src/builder/layer/tar-output.js';

/** Every layer digest so far was made with tar-stream's pack: the encoder must give its bytes. */
async function viaTarStream(entries: ReadonlyArray<{ header: TarHeader; content?: Buffer }>): Promise<Buffer> {
  const pack = createPack();
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  const bits = { file: 0o100000, link: 0o100000, directory: 0o040000, symlink: 0o120000 } as const;
  for (const { header, content } of entries) {
    const old: Partial<Header> & Pick<Header, 'name'> = {
      name: header.name,
      type: header.type,
      mode: bits[header.type] | header.mode,
      uid: header.uid,
      gid: header.gid,
      mtime: new Date(header.mtime * 1000),
      uname: '',
      gname: '',
      ...(header.type === 'file' ? { size: header.size } : {}),
      ...(header.linkname === undefined ? {} : { linkname: header.linkname }),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      // Files always went in with their bytes, empty ones too.
      const bytes = content ?? (header.type === 'file' ? Buffer.alloc(0) : undefined);
      if (bytes) pack.entry(old, bytes, done);
      else pack.entry(old, done);
    });
  }
  pack.finalize();
  await read;
  return Buffer.concat(chunks);
}

async function viaTarOutput(entries: ReadonlyArray<{ header: TarHeader; content?: Buffer }>): Promise<Buffer> {
  const tar = new TarOutput();
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { header, content } of entries) tar.entry(header, content);
  tar.finalize();
  await read;
  return Buffer.concat(chunks);
}

const base = { mode: 0o444, uid: 0, gid: 0, size: 0, mtime: 1 } as const;
const component = 'c'.repeat(60);

describe('encodeTarHeader', () => {
  const cases: ReadonlyArray<readonly [string, { header: TarHeader; content?: Buffer }]> = [
    ['a directory', { header: { ...base, name: 'nix/store/', type: 'directory', mode: 0o755 } }],
    ['a file with content and padding', { header: { ...base, name: 'nix/store/a-x/f', type: 'file', size: 700 }, content: Buffer.alloc(700, 1) }],
    ['a file of whole blocks', { header: { ...base, name: 'f', type: 'file', size: 1024, mode: 0o555 }, content: Buffer.alloc(1024, 2) }],
    ['an empty file', { header: { ...base, name: 'empty', type: 'file' } }],
    ['a symlink', { header: { ...base, name: 'nix/store/a-x/link', type: 'symlink', mode: 0o777, linkname: '/nix/store/b-y/share' } }],
    ['a hard link', { header: { ...base, name: 'nix/store/a-x/copy', type: 'link', linkname: 'nix/store/a-x/f' } }],
    ['a name of exactly 100 bytes', { header: { ...base, name: 'n'.repeat(100), type: 'link', linkname: 'x' } }],
    ['a long name split into prefix and name', { header: { ...base, name: `nix/store/${component}/${component}/f`, type: 'file', size: 3 }, content: Buffer.from('abc') }],
    ['a long directory name', { header: { ...base, name: `nix/store/${component}/${component}/`, type: 'directory', mode: 0o555 } }],
    ['a component too long for ustar (PAX)', { header: { ...base, name: `nix/store/a-x/${'d'.repeat(120)}`, type: 'file', size: 5 }, content: Buffer.from('hello') }],
    ['a non-ASCII name (PAX)', { header: { ...base, name: 'nix/store/a-x/é\u{1F600}', type: 'file', size: 1 }, content: Buffer.from('e') }],
    ['a long link target (PAX, linkpath)', { header: { ...base, name: 'nix/store/a-x/l', type: 'symlink', mode: 0o777, linkname: `/nix/store/${'t'.repeat(120)}` } }],
    ['a non-ASCII link target', { header: { ...base, name: 'nix/store/a-x/l2', type: 'symlink', mode: 0o777, linkname: '../é' } }],
    ['a PAX record whose length gains a digit', { header: { ...base, name: `nix/store/${'p'.repeat(80)}/${'q'.repeat(80)}/${'r'.repeat(120)}`, type: 'directory', mode: 0o555 } }],
    ['an owner other than root', { header: { ...base, name: 'etc/passwd', type: 'file', size: 2, uid: 1000, gid: 100, mode: 0o644 }, content: Buffer.from('x\n') }],
  ];

  it.each(cases)('writes %s as tar-stream 3 does', async (_label, entry) => {
    expect((await viaTarOutput([entry])).equals(await viaTarStream([entry]))).toBe(true);
  });

  it('writes a whole archive of every case as tar-stream does', async () => {
    const entries = cases.map(([, entry]) => entry);
    expect((await viaTarOutput(entries)).equals(await viaTarStream(entries))).toBe(true);
  });

  it('encodes sizes beyond 8 GiB in base-256', () => {
    const block = encodeTarHeader({ ...base, name: 'huge', type: 'file', size: 2 ** 34 });
    expect(block[124]).toBe(0x80);
    expect(block.readUIntBE(130, 6)).toBe(2 ** 34);
  });
});
