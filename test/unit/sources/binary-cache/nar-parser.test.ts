import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NarInput } from '../../../../src/sources/binary-cache/nar-input.js';
import { parseNar, type NarEvent } from '../../../../src/sources/binary-cache/nar-parser.js';
import { dir, file, link, narOf, narString, narTokens } from '../../../support/binary-cache-fixtures.js';
import { HELLO_NAR } from './nix-fixtures.js';

class Invalid extends Error {}

/** Parse `nar` fed in `chunkSize` pieces, reading every file's contents; checks NarHash/NarSize against `expected`. */
async function parse(nar: Buffer, options: { chunkSize?: number; expected?: Buffer; size?: number } = {}): Promise<Array<NarEvent & { content?: string }>> {
  const chunkSize = options.chunkSize ?? 7;
  const source = (async function* () {
    for (let offset = 0; offset < nar.length; offset += chunkSize) yield nar.subarray(offset, offset + chunkSize);
  })();
  const expected = options.expected ?? nar;
  const input = new NarInput(source, { size: options.size ?? expected.length, sha256: createHash('sha256').update(expected).digest() }, (reason) => new Invalid(reason));
  const events: Array<NarEvent & { content?: string }> = [];
  for await (const event of parseNar(input)) {
    if (event.kind === 'file') {
      const chunks: Buffer[] = [];
      for (let chunk = await input.readContent(); chunk !== null; chunk = await input.readContent()) chunks.push(Buffer.from(chunk));
      events.push({ ...event, content: Buffer.concat(chunks).toString('utf8') });
    } else {
      events.push(event);
    }
  }
  return events;
}

const header = (...tokens: string[]) => narTokens('nix-archive-1', ...tokens);
/** A directory NAR with the given raw entry names, each a small file. */
const directoryWith = (...names: Array<string | Buffer>) =>
  Buffer.concat([
    header('(', 'type', 'directory'),
    ...names.map((name) => narTokens('entry', '(', 'name', name, 'node', '(', 'type', 'regular', 'contents', 'x', ')', ')')),
    narTokens(')'),
  ]);

describe('parseNar', () => {
  it('parses a real NAR from nix-store --dump, in NAR order, whatever the chunking', async () => {
    for (const chunkSize of [1, 5, 8, 64, 100_000]) {
      const events = await parse(HELLO_NAR, { chunkSize });
      expect(events.map((event) => `${event.kind}:${event.path}`)).toEqual([
        'directory:',
        'directory:bin',
        'file:bin/hello',
        'directory:share',
        'directory:share/doc',
        'directory:share/doc/hello',
        'file:share/doc/hello/README',
        'directory:share/man',
        'directory:share/man/man1',
        'file:share/man/man1/hello.1',
      ]);
      const hello = events[2] as Extract<NarEvent, { kind: 'file' }> & { content: string };
      expect(hello.executable).toBe(true);
      expect(hello.content).toMatch(/^#!\/nix\/store\/.*busybox/);
      expect(hello.size).toBe(hello.content.length);
    }
  });

  it('gives each file its offset in the NAR', async () => {
    const nar = narOf(dir({ a: file('hello'), b: file('world', true) }));
    const files = (await parse(nar)).filter((event) => event.kind === 'file') as Array<Extract<NarEvent, { kind: 'file' }>>;
    for (const entry of files) expect(nar.subarray(entry.offset, entry.offset + entry.size).toString()).toBe(entry.path === 'a' ? 'hello' : 'world');
  });

  it('parses a single file, a symlink, empty files and empty directories', async () => {
    expect(await parse(narOf(file('', true)))).toEqual([{ kind: 'file', path: '', size: 0, executable: true, offset: expect.any(Number), content: '' }]);
    expect(await parse(narOf(link('../x')))).toEqual([{ kind: 'symlink', path: '', target: '../x' }]);
    expect(await parse(narOf(dir({ e: dir({}), f: file('') })))).toMatchObject([{ path: '' }, { path: 'e' }, { path: 'f', size: 0 }]);
  });

  it('skips contents the caller does not read', async () => {
    const nar = narOf(dir({ a: file('x'.repeat(1000)), b: file('y') }));
    const input = new NarInput((async function* () { yield nar; })(), { size: nar.length, sha256: createHash('sha256').update(nar).digest() }, (r) => new Invalid(r));
    const paths: string[] = [];
    for await (const event of parseNar(input)) paths.push(event.path);
    expect(paths).toEqual(['', 'a', 'b']);
  });

  it.each([
    ['bad magic', Buffer.concat([narString('nix-archive-2'), narTokens('(')]), /not a NAR/],
    ['random bytes', Buffer.alloc(64, 0xab), /not a NAR/],
    ['an unknown type', header('(', 'type', 'fifo', ')'), /unknown node type/],
    ['a ".." entry name', directoryWith('..'), /invalid entry name "\.\."/],
    ['a "." entry name', directoryWith('.'), /invalid entry name/],
    ['a "/" in an entry name', directoryWith('a/b'), /invalid entry name "a\/b"/],
    ['an empty entry name', directoryWith(''), /invalid entry name ""/],
    ['a NUL in an entry name', directoryWith('a\0b'), /invalid entry name/],
    ['a name that is not UTF-8', directoryWith(Buffer.from([0x61, 0xff])), /not valid UTF-8/],
    ['a name longer than 255 bytes', directoryWith('n'.repeat(256)), /at most 255/],
    ['unsorted entries', directoryWith('b', 'a'), /not sorted/],
    ['a repeated entry', directoryWith('a', 'a'), /not sorted or repeats "a"/],
    ['an empty symlink target', header('(', 'type', 'symlink', 'target', '', ')'), /invalid symlink target/],
    ['a missing closing token', header('(', 'type', 'symlink', 'target', 'x'), /truncated/],
    ['an executable marker with a value', header('(', 'type', 'regular', 'executable', 'yes', 'contents', '', ')'), /at most 0/],
  ])('rejects %s', async (_what, nar, message) => {
    await expect(parse(nar)).rejects.toThrow(Invalid);
    await expect(parse(nar)).rejects.toThrow(message);
  });

  it('rejects non-zero padding', async () => {
    const nar = narOf(file('abc'));
    nar[nar.length - 16 - 1] = 1; // the last padding byte after "abc", before the closing ")"
    await expect(parse(nar)).rejects.toThrow(/non-zero padding/);
  });

  it('rejects a file larger than what is left of NarSize, before reading it', async () => {
    const nar = Buffer.concat([header('(', 'type', 'regular', 'contents'), Buffer.from([0, 0, 0, 0, 0, 1, 0, 0])]);
    await expect(parse(nar, { size: nar.length + 100 })).rejects.toThrow(/more than is left of its NarSize/);
  });

  it('rejects nesting deeper than 256 directories', async () => {
    let node = file('deep');
    for (let i = 0; i < 300; i++) node = dir({ d: node });
    await expect(parse(narOf(node), { chunkSize: 4096 })).rejects.toThrow(/deeper than 256/);
  });

  it('checks NarHash and NarSize at the end, and fails there rather than finishing', async () => {
    const nar = narOf(dir({ a: file('hello') }));
    const other = narOf(dir({ a: file('hellO') }));
    const seen: string[] = [];
    const run = async () => {
      const input = new NarInput((async function* () { yield nar; })(), { size: nar.length, sha256: createHash('sha256').update(other).digest() }, (r) => new Invalid(r));
      for await (const event of parseNar(input)) seen.push(event.path);
    };
    await expect(run()).rejects.toThrow(/does not match its NarHash/);
    expect(seen).toEqual(['', 'a']);
  });

  it('fails on a truncated stream, on trailing data and on a stream longer than NarSize', async () => {
    const nar = narOf(dir({ a: file('hello world') }));
    await expect(parse(nar.subarray(0, nar.length - 16), { expected: nar })).rejects.toThrow(/truncated/);
    await expect(parse(Buffer.concat([nar, Buffer.alloc(8)]), { expected: nar })).rejects.toThrow(/longer than its NarSize|after the end/);
    await expect(parse(Buffer.concat([nar, Buffer.alloc(8)]), { expected: nar, size: nar.length + 8 })).rejects.toThrow(/after the end of the NAR/);
    await expect(parse(nar, { size: nar.length - 8 })).rejects.toThrow(/longer than its NarSize/);
  });
});
