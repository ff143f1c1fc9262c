import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { BinaryCache } from '../../src/sources/binary-cache/binary-cache.js';
import { createCacheTransport } from '../../src/sources/binary-cache/create-transport.js';
import { encodeNix32 } from '../../src/sources/binary-cache/nix-base32.js';
import { RequestPolicy } from '../../src/sources/binary-cache/request-policy.js';
import { parsePublicKey } from '../../src/sources/binary-cache/signatures.js';
import type { StoreReader } from '../../src/sources/types.js';

/** `xz -6` through lzma-native (which ships no types). */
function xzCompress(input: Buffer): Promise<Buffer> {
  const lzma = createRequire(import.meta.url)('lzma-native') as { compress(input: Buffer, options: { preset: number }, done: (output: Buffer) => void): void };
  return new Promise((resolve) => lzma.compress(input, { preset: 6 }, resolve));
}

/** A file system tree to serialise as a NAR. */
export type NarNode =
  | { readonly type: 'directory'; readonly entries: Readonly<Record<string, NarNode>> }
  | { readonly type: 'regular'; readonly contents: string | Buffer; readonly executable?: boolean }
  | { readonly type: 'symlink'; readonly target: string };

export const dir = (entries: Record<string, NarNode>): NarNode => ({ type: 'directory', entries });
export const file = (contents: string | Buffer, executable = false): NarNode => ({ type: 'regular', contents, executable });
export const link = (target: string): NarNode => ({ type: 'symlink', target });

/** A NAR string: u64 length, bytes, zero padding to 8. */
export function narString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);
}

/** Raw NAR bytes from a list of strings, for hand-made (malformed) NARs. */
export function narTokens(...tokens: Array<string | Buffer>): Buffer {
  return Buffer.concat(tokens.map(narString));
}

/** Serialise a tree exactly as `nix-store --dump` does (entries sorted by name bytes). */
export function narOf(node: NarNode): Buffer {
  return Buffer.concat([narString('nix-archive-1'), nodeBytes(node)]);
}

function nodeBytes(node: NarNode): Buffer {
  const parts: Buffer[] = [narString('('), narString('type')];
  if (node.type === 'regular') {
    parts.push(narString('regular'));
    if (node.executable) parts.push(narString('executable'), narString(''));
    parts.push(narString('contents'), narString(typeof node.contents === 'string' ? Buffer.from(node.contents) : node.contents));
  } else if (node.type === 'symlink') {
    parts.push(narString('symlink'), narString('target'), narString(node.target));
  } else {
    parts.push(narString('directory'));
    const names = Object.keys(node.entries).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      parts.push(narString('entry'), narString('('), narString('name'), narString(name), narString('node'), nodeBytes(node.entries[name] as NarNode), narString(')'));
    }
  }
  parts.push(narString(')'));
  return Buffer.concat(parts);
}

/** A store path name for tests: 32 nix32 characters from `seed`, then the name. */
export function fakeStorePath(seed: string, name: string): string {
  const hash = encodeNix32(createHash('sha256').update(seed).digest().subarray(0, 20));
  return `/nix/store/${hash}-${name}`;
}

/** An ed25519 key in Nix's `name:base64` notation. */
export interface NixKey {
  readonly name: string;
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

export function makeKey(name: string): NixKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  return { name, publicKey: `${name}:${raw.toString('base64')}`, privateKey };
}

export interface FixturePathOptions {
  readonly storePath: string;
  readonly nar: Buffer;
  readonly references?: readonly string[];
  readonly compression?: 'none' | 'zstd' | 'gzip' | 'xz';
  /** Who signs: the cache's key (default), another key, nobody, or the cache's key over other data. */
  readonly signature?: 'trusted' | 'untrusted' | 'none' | 'wrong';
  /** Edit the narinfo's fields before it is written (after signing, unless `signAfterEdit`). */
  readonly edit?: (fields: Map<string, string>) => void;
  readonly signAfterEdit?: boolean;
  /** Edit the compressed NAR file's bytes. */
  readonly editFile?: (bytes: Buffer) => Buffer;
}

/**
 * A binary cache in a temp directory, written the way `nix copy --to file://` writes one, with
 * knobs for breaking it: no Nix needed.
 */
export class FixtureCache {
  readonly key = makeKey('fixture-1');
  readonly otherKey = makeKey('other-1');

  private constructor(readonly dir: string) {}

  static async create(): Promise<FixtureCache> {
    const directory = await mkdtemp(join(tmpdir(), 'stowage-cache-fixture-'));
    await mkdir(join(directory, 'nar'));
    await writeFile(join(directory, 'nix-cache-info'), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n');
    return new FixtureCache(directory);
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  async add(options: FixturePathOptions): Promise<void> {
    const compression = options.compression ?? 'zstd';
    const compressed = compression === 'zstd' ? zstdCompress(options.nar) : compression === 'gzip' ? gzipSync(options.nar) : compression === 'xz' ? await xzCompress(options.nar) : options.nar;
    const bytes = options.editFile ? options.editFile(compressed) : compressed;
    const fileHash = encodeNix32(createHash('sha256').update(compressed).digest());
    const extension = { none: '', zstd: '.zst', gzip: '.gz', xz: '.xz' }[compression];
    const url = `nar/${fileHash}.nar${extension}`;
    await writeFile(join(this.dir, url), bytes);
    const references = [...(options.references ?? [])].sort();
    const fields = new Map<string, string>([
      ['StorePath', options.storePath],
      ['URL', url],
      ['Compression', compression],
      ['FileHash', `sha256:${fileHash}`],
      ['FileSize', String(compressed.length)],
      ['NarHash', `sha256:${encodeNix32(createHash('sha256').update(options.nar).digest())}`],
      ['NarSize', String(options.nar.length)],
      ['References', references.map((path) => path.slice('/nix/store/'.length)).join(' ')],
    ]);
    const signature = options.signature ?? 'trusted';
    const signWith = (key: NixKey, data: Map<string, string>): string => {
      const fingerprint = `1;${data.get('StorePath')};${data.get('NarHash')};${data.get('NarSize')};${(data.get('References') ?? '').split(' ').filter(Boolean).map((name) => `/nix/store/${name}`).join(',')}`;
      return `${key.name}:${sign(null, Buffer.from(fingerprint), key.privateKey).toString('base64')}`;
    };
    const sigs = (): string[] => {
      if (signature === 'none') return [];
      if (signature === 'untrusted') return [signWith(this.otherKey, fields)];
      if (signature === 'wrong') return [signWith(this.key, new Map([...fields, ['NarSize', String(options.nar.length + 1)]]))];
      return [signWith(this.key, fields)];
    };
    let signatures = sigs();
    options.edit?.(fields);
    if (options.signAfterEdit) signatures = sigs();
    const text = [...fields].map(([key, value]) => `${key}: ${value}`).concat(signatures.map((sig) => `Sig: ${sig}`)).join('\n');
    await writeFile(join(this.dir, `${options.storePath.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`), `${text}\n`);
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A BinaryCache over `url` with test-friendly settings (fast retries). */
export function binaryCacheFor(
  url: string,
  options: { keys?: readonly string[]; allowUnsigned?: boolean; maxNarSize?: number; retries?: number; timeoutMs?: number; concurrency?: number; onRetry?: () => void } = {},
): BinaryCache {
  const transport = createCacheTransport(url);
  return new BinaryCache({
    transport,
    policy: new RequestPolicy({
      concurrency: options.concurrency ?? 8,
      retries: options.retries ?? 2,
      timeoutMs: options.timeoutMs ?? 5_000,
      backoffMs: 5,
      cache: transport.displayUrl,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    }),
    trustedKeys: (options.keys ?? []).map(parsePublicKey),
    allowUnsigned: options.allowUnsigned ?? false,
    maxNarSize: options.maxNarSize ?? 2 ** 34,
    narInfoCacheEntries: 1000,
  });
}

/** Every entry of a store path, with file contents read (once). */
export async function readEntries(reader: StoreReader, storePath: string): Promise<Array<{ kind: string; path: string; content?: string; executable?: boolean; target?: string }>> {
  const out: Array<{ kind: string; path: string; content?: string; executable?: boolean; target?: string }> = [];
  for await (const entry of reader.entries(storePath)) {
    if (entry.kind === 'file') {
      const chunks: Buffer[] = [];
      for await (const chunk of entry.open()) chunks.push(chunk as Buffer);
      out.push({ kind: 'file', path: entry.path, content: Buffer.concat(chunks).toString('utf8'), executable: entry.executable });
    } else if (entry.kind === 'symlink') {
      out.push({ kind: 'symlink', path: entry.path, target: entry.target });
    } else {
      out.push({ kind: 'directory', path: entry.path });
    }
  }
  return out;
}
