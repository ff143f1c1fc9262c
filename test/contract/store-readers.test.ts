import { BinaryCacheStoreReader } from '../../src/sources/binary-cache/binary-cache-store-reader.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';
import { binaryCacheFor, FixtureCache, narOf, type NarNode } from '../support/binary-cache-fixtures.js';
import { makeStore, type Node, type Tree } from '../unit/builder/layer/layer-test-support.js';
import { describeStoreReaderContract, LIB, PKG, type StoreContents } from './store-reader-contract.js';

/** A NAR tree as a tree on disk. */
function onDisk(node: NarNode): Node {
  if (node.type === 'regular') return { file: node.contents, executable: node.executable ?? false };
  if (node.type === 'symlink') return { symlink: node.target };
  return Object.fromEntries(Object.entries(node.entries).map(([name, child]) => [name, onDisk(child)]));
}

describeStoreReaderContract('local store directory', async (contents: StoreContents) => {
  const store = await makeStore(Object.fromEntries([...contents].map(([storePath, node]) => [storePath.slice('/nix/store/'.length), onDisk(node)])) as Tree);
  return { reader: new LocalStoreReader(store.dir), cleanup: () => store.cleanup() };
});

async function binaryCacheReader(contents: StoreContents, compression: 'zstd' | 'xz' | 'gzip' | 'none', useListings: boolean) {
  const cache = await FixtureCache.create();
  for (const [storePath, node] of contents) {
    const references = storePath === PKG ? [LIB, PKG] : [];
    await cache.add({ storePath, nar: narOf(node), references, compression });
  }
  const reader = new BinaryCacheStoreReader(binaryCacheFor(cache.url, { keys: [cache.key.publicKey] }), { allowExternalSymlinks: false, useListings });
  return { reader, cleanup: () => cache.cleanup() };
}

describeStoreReaderContract('binary cache, zstd NARs', (contents) => binaryCacheReader(contents, 'zstd', true));
describeStoreReaderContract('binary cache, xz NARs, no listings', (contents) => binaryCacheReader(contents, 'xz', false));
describeStoreReaderContract('binary cache, uncompressed NARs', (contents) => binaryCacheReader(contents, 'none', true));
