import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as createExtract, type Header } from 'tar-stream';
import { createNarDecompressor } from '../binary-cache/decompress.js';
import type { RootFsEntry, RootFsReader } from '../types.js';
import { MalformedDebError, readDebMembers, tarMember } from './deb-archive.js';
import { dpkgInfoEntries } from './dpkg-info.js';
import type { DebianPackage } from './types.js';

/** What the reader needs of a fetcher: the verified cache file of a package. */
export interface DebFileSource {
  fetch(pkg: DebianPackage, signal?: AbortSignal): Promise<string>;
}

/**
 * Top-level directories that Debian 12 systems merge into `/usr`: a package's `./bin/ls` is
 * written as `usr/bin/ls`, and the image's top layer links `/bin` to `usr/bin`.
 */
export const MERGED_DIRECTORIES = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;
const MERGED = new Set<string>(MERGED_DIRECTORIES);

/**
 * Reads packages of one closure (its paths → packages) from verified `.deb`s, streaming the
 * data tar through its decompressor and tar parser: nothing is unpacked to disk and memory
 * stays bounded by the stream buffers, whatever the package's size.
 */
export class DebReader implements RootFsReader {
  constructor(
    private readonly files: DebFileSource,
    private readonly packages: ReadonlyMap<string, DebianPackage>,
  ) {}

  /**
   * The package's own `control` file (what dpkg copies into its status database), read from
   * the control tar.
   */
  async control(path: string, signal?: AbortSignal): Promise<string> {
    const pkg = this.packageOf(path);
    const file = await this.files.fetch(pkg, signal);
    const control = await controlFile(file, 'control', signal);
    if (control === null) throw new MalformedDebError(file, 'its control tar has no control file');
    return control;
  }

  /**
   * The package's files, then the `.list` and `.md5sums` dpkg keeps for it under
   * /var/lib/dpkg/info (dpkg-info.ts), so `dpkg -L` and `dpkg -S` work in the image.
   */
  async *entries(path: string, signal?: AbortSignal): AsyncGenerator<RootFsEntry> {
    const pkg = this.packageOf(path);
    const file = await this.files.fetch(pkg, signal);
    const { member, compression } = tarMember(file, await readDebMembers(file), 'data.tar');
    const raw = createReadStream(file, { start: member.offset, end: member.offset + Math.max(member.size, 1) - 1 });
    const names: string[] = [];
    yield* dataTarEntries(file, raw, createNarDecompressor(compression), signal, true, (name) => names.push(name));
    yield* dpkgInfoEntries(pkg, names, await controlFile(file, 'md5sums', signal));
  }

  private packageOf(path: string): DebianPackage {
    const pkg = this.packages.get(path);
    if (!pkg) throw new Error(`no Debian package is known for closure path ${path}`);
    return pkg;
  }
}

/** One file of a `.deb`'s control tar (`control`, `md5sums`), or null when it has none. */
async function controlFile(file: string, name: string, signal?: AbortSignal): Promise<string | null> {
  const { member, compression } = tarMember(file, await readDebMembers(file), 'control.tar');
  const raw = createReadStream(file, { start: member.offset, end: member.offset + Math.max(member.size, 1) - 1 });
  for await (const entry of dataTarEntries(file, raw, createNarDecompressor(compression), signal, false)) {
    if (entry.kind === 'file' && entry.path === name) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry.open() as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks).toString('utf8');
    }
  }
  return null;
}

/** Entries of a data tar coming out of `streams` (file stream, then decompressors), usr-merged. */
async function* dataTarEntries(
  file: string,
  raw: Readable,
  decoders: readonly Duplex[],
  signal?: AbortSignal,
  usrMerge = true,
  onName: (tarName: string) => void = () => {},
): AsyncGenerator<RootFsEntry> {
  const extract = createExtract();
  // tar-stream's extract is a streamx Writable, which pipeline() drives like a Node one.
  const feeding = pipeline([raw, ...decoders, extract as unknown as Writable]).catch((error: unknown) => {
    extract.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  const streams: Readable[] = [raw, ...decoders];
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      const header = entry.header;
      onName(header.name);
      const path = usrMerge ? mergedPath(file, header.name) : plainPath(file, header.name);
      let opened = false;
      const item = path === null ? null : toEntry(file, path, header, () => {
        opened = true;
        return entry as unknown as Readable;
      });
      if (item) yield item;
      // An entry nobody read is drained so the parser can move on.
      if (!opened) entry.resume();
    }
    await feeding;
  } finally {
    for (const stream of streams) stream.destroy();
    extract.destroy();
  }
}

function toEntry(file: string, path: string, header: Header, open: () => Readable): RootFsEntry | null {
  const mode = (header.mode ?? 0o644) & 0o7777;
  const uid = header.uid ?? 0;
  const gid = header.gid ?? 0;
  switch (header.type) {
    case 'directory':
      return { kind: 'directory', path, mode, uid, gid };
    case 'file':
    case 'contiguous-file':
    case undefined:
    case null:
      return { kind: 'file', path, mode, uid, gid, size: header.size ?? 0, open };
    case 'symlink':
      return { kind: 'symlink', path, target: mergedTarget(header.name, path, header.linkname ?? ''), uid, gid };
    case 'link': {
      const target = mergedPath(file, header.linkname ?? '');
      if (target === null) throw new MalformedDebError(file, `hard link ${path} has no target`);
      return { kind: 'hardlink', path, target, mode, uid, gid };
    }
    default:
      // Debian policy keeps device nodes and fifos out of packages; maintainer scripts make them.
      return null;
  }
}

/**
 * `./bin/ls` → `usr/bin/ls`; `./usr/bin/` → `usr/bin`; `./` → null (the root is not an entry).
 * @throws MalformedDebError on a `..` component or an absolute escape.
 */
export function mergedPath(file: string, name: string): string | null {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..')) throw new MalformedDebError(file, `entry ${JSON.stringify(name)} leaves the root`);
  if (parts.length === 0) return null;
  if (MERGED.has(parts[0] as string)) parts.unshift('usr');
  return parts.join('/');
}

/** A control tar's names (`./control`) without usr-merging. */
function plainPath(file: string, name: string): string | null {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..')) throw new MalformedDebError(file, `entry ${JSON.stringify(name)} leaves the root`);
  return parts.length === 0 ? null : parts.join('/');
}

/**
 * A relative symlink that moved with usr-merging (`./lib/x -> ../usr/lib/y` now at
 * `usr/lib/x`) is rewritten so it still points at the same (merged) file; absolute targets
 * resolve through the `/bin`-style links and stay as they are.
 */
function mergedTarget(originalName: string, path: string, target: string): string {
  if (target.startsWith('/') || target === '') return target;
  const original = posix.join('/', originalName.replace(/^\.?\/*/, ''));
  if (`/${path}` === original) return target;
  const resolved = posix.resolve(posix.dirname(original), target);
  const merged = mergedPath('', resolved) ?? '';
  return posix.relative(posix.dirname(`/${path}`), `/${merged}`) || '.';
}
