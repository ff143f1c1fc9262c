import type { NarInput } from './nar-input.js';

/**
 * One object of a NAR, in NAR order (a directory before its children, siblings by name in byte
 * order). `path` is relative to the NAR's root ('' for the root itself), `/`-separated.
 * After a `file` event the caller may read the contents with `NarInput.readContent()` before asking
 * for the next event; whatever it leaves unread is skipped.
 */
export type NarEvent =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly size: number; readonly executable: boolean; readonly offset: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** Longest entry name (Linux NAME_MAX) and symlink target (PATH_MAX - 1) accepted. */
export const MAX_NAME_BYTES = 255;
export const MAX_TARGET_BYTES = 4095;
/** Deepest directory nesting accepted; real store paths stay far below it. */
export const MAX_DEPTH = 256;
/** Longest keyword string of the format (`nix-archive-1`). */
const MAX_TOKEN_BYTES = 16;
/** `nix-archive-1` as a NAR string: length 13, the bytes, three bytes of padding. */
const MAGIC_BYTES = Buffer.concat([Buffer.from([13, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('nix-archive-1\0\0\0', 'latin1')]);

interface Frame {
  readonly path: string;
  previous: Buffer | null;
}

/**
 * Parse a NAR streaming, as Nix's own parser does, and reject what Nix would reject or what
 * could not be represented faithfully in a layer: an unknown token, a non-zero padding byte, an
 * entry name that is empty, `.`, `..`, longer than 255 bytes, or holds `/` or NUL, siblings out
 * of byte order or repeated, a name or target that is not UTF-8, a symlink target that is empty,
 * holds NUL or is longer than 4095 bytes, nesting deeper than {@link MAX_DEPTH}, a file larger
 * than what is left of NarSize. The last step is `input.finish()`, which checks NarSize and
 * NarHash: the generator throws there rather than finishing when the NAR is not the signed one.
 * @throws the errors `input.fail` makes, and the stream's own errors.
 */
export async function* parseNar(input: NarInput): AsyncGenerator<NarEvent> {
  // The magic's length first, so that random bytes read as "not a NAR", not as a huge string.
  if (!(await input.read(24)).equals(MAGIC_BYTES)) {
    throw input.fail('the data is not a NAR (bad magic)');
  }
  const stack: Frame[] = [];
  let path = '';
  for (;;) {
    await expectToken(input, '(');
    await expectToken(input, 'type');
    const type = await readToken(input);
    if (type === 'directory') {
      if (stack.length >= MAX_DEPTH) throw input.fail(`the NAR nests directories deeper than ${MAX_DEPTH} levels`);
      yield { kind: 'directory', path };
      stack.push({ path, previous: null });
    } else {
      if (type === 'regular') {
        let token = await readToken(input);
        let executable = false;
        if (token === 'executable') {
          executable = true;
          if ((await readString(input, 0, 'the executable marker')).length !== 0) throw input.fail('the NAR has a malformed executable marker');
          token = await readToken(input);
        }
        if (token !== 'contents') throw input.fail(`the NAR has ${JSON.stringify(token)} where "contents" belongs`);
        const size = await input.readU64();
        if (size > input.remaining) throw input.fail(`the NAR declares a file of ${size} bytes, more than is left of its NarSize`);
        const offset = input.position;
        input.beginContent(size);
        yield { kind: 'file', path, size, executable, offset };
        await input.skipContent();
      } else if (type === 'symlink') {
        await expectToken(input, 'target');
        const target = text(input, await readString(input, MAX_TARGET_BYTES, 'a symlink target'), 'a symlink target');
        if (target === '' || target.includes('\0')) throw input.fail(`the NAR has an invalid symlink target at ${JSON.stringify(path)}`);
        yield { kind: 'symlink', path, target };
      } else {
        throw input.fail(`the NAR has an unknown node type ${JSON.stringify(type)}`);
      }
      await expectToken(input, ')');
      // A leaf inside a directory: close its `entry (`.
      if (stack.length > 0) await expectToken(input, ')');
    }
    // Find the next node: the next entry of the innermost open directory, closing finished ones.
    for (;;) {
      const frame = stack[stack.length - 1];
      if (!frame) {
        await input.finish();
        return;
      }
      const token = await readToken(input);
      if (token === ')') {
        stack.pop();
        if (stack.length > 0) await expectToken(input, ')');
        continue;
      }
      if (token !== 'entry') throw input.fail(`the NAR has ${JSON.stringify(token)} where "entry" or ")" belongs`);
      await expectToken(input, '(');
      await expectToken(input, 'name');
      const raw = Buffer.from(await readString(input, MAX_NAME_BYTES, 'an entry name'));
      const name = text(input, raw, 'an entry name');
      if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw input.fail(`the NAR has an invalid entry name ${JSON.stringify(name)} in ${JSON.stringify(frame.path || '/')}`);
      }
      if (frame.previous !== null && Buffer.compare(frame.previous, raw) >= 0) {
        throw input.fail(`the NAR's directory ${JSON.stringify(frame.path || '/')} is not sorted or repeats ${JSON.stringify(name)}`);
      }
      frame.previous = raw;
      await expectToken(input, 'node');
      path = frame.path === '' ? name : `${frame.path}/${name}`;
      break;
    }
  }
}

async function readString(input: NarInput, maxBytes: number, what: string): Promise<Buffer> {
  const length = await input.readU64();
  if (length > maxBytes) throw input.fail(`the NAR has ${what} of ${length} bytes (at most ${maxBytes} accepted)`);
  const bytes = await input.read(length);
  await input.readPadding(length);
  return bytes;
}

async function readToken(input: NarInput): Promise<string> {
  return (await readString(input, MAX_TOKEN_BYTES, 'a token')).toString('latin1');
}

async function expectToken(input: NarInput, expected: string): Promise<void> {
  const token = await readToken(input);
  if (token !== expected) throw input.fail(`the NAR has ${JSON.stringify(token)} where ${JSON.stringify(expected)} belongs`);
}

/** Bytes as a string, which must be valid UTF-8: entry paths are strings end to end. */
function text(input: NarInput, bytes: Buffer, what: string): string {
  const value = bytes.toString('utf8');
  if (Buffer.byteLength(value, 'utf8') !== bytes.length || !Buffer.from(value, 'utf8').equals(bytes)) {
    throw input.fail(`the NAR has ${what} that is not valid UTF-8`);
  }
  return value;
}
