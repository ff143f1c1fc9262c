import { chmod, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { decompress } from 'zstd-napi';
import type { LayerBlob } from '../../../../src/builder/layer/index.js';
import type { BlobStore } from '../../../../src/storage/types.js';

/** A file tree to lay out in a temporary store directory. */
export type Tree = { readonly [name: string]: Node };
export type Node =
  | Tree
  | { readonly file: string | Buffer; readonly executable?: boolean }
  | { readonly symlink: string }
  | { readonly hardLinkTo: string };

/** A temporary directory standing in for /nix/store; remove it with `cleanup`. */
export interface TempStore {
  readonly dir: string;
  cleanup(): Promise<void>;
}

/** Create a store directory holding `paths` (store path name → tree or single node). */
export async function makeStore(paths: Tree): Promise<TempStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stowage-layer-'));
  const hardLinks: [target: string, link: string][] = [];
  await layOut(dir, paths, hardLinks);
  // Last, so that a link may name a file anywhere in the tree.
  for (const [target, linkPath] of hardLinks) await link(path.join(dir, target), linkPath);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function layOut(dir: string, tree: Tree, hardLinks: [string, string][]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(
    Object.entries(tree).map(async ([name, node]) => {
      const target = path.join(dir, name);
      if ('file' in node && (typeof node.file === 'string' || Buffer.isBuffer(node.file))) {
        await writeFile(target, node.file);
        await chmod(target, node.executable ? 0o755 : 0o644);
      } else if ('symlink' in node && typeof node.symlink === 'string') {
        await symlink(node.symlink, target);
      } else if ('hardLinkTo' in node && typeof node.hardLinkTo === 'string') {
        hardLinks.push([node.hardLinkTo, target]);
      } else {
        await layOut(target, node as Tree, hardLinks);
      }
    }),
  );
}

/** One entry of an extracted tar stream. */
export interface TarItem {
  readonly header: Header;
  readonly content: Buffer;
}

/** The uncompressed tar bytes of a committed layer blob. */
export async function layerTar(store: BlobStore, blob: LayerBlob): Promise<Buffer> {
  const compressed = await readBlob(store, blob.digest);
  return blob.compression === 'gzip' ? gunzipSync(compressed) : decompress(compressed);
}

/** Every byte of a committed blob. */
export async function readBlob(store: BlobStore, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.open(digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parse a tar stream with tar-stream's extractor. */
export async function untar(tar: Buffer): Promise<TarItem[]> {
  const items: TarItem[] = [];
  const extractor = extract();
  Readable.from([tar]).pipe(extractor as unknown as NodeJS.WritableStream);
  for await (const entry of extractor) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    items.push({ header: entry.header, content: Buffer.concat(chunks) });
  }
  return items;
}

/** `name` → header, for assertions by name. */
export function byName(items: readonly TarItem[]): Map<string, TarItem> {
  return new Map(items.map((item) => [item.header.name, item]));
}
