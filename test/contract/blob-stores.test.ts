import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBlobStoreContract } from './blob-store-contract.js';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';

describeBlobStoreContract('memory', async () => new MemoryBlobStore());
describeBlobStoreContract('fs', async () => {
  const store = new FsBlobStore(await mkdtemp(join(tmpdir(), 'stowage-blobs-')));
  await store.init();
  return store;
});
