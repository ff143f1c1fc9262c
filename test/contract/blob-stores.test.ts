import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBlobStoreContract } from './blob-store-contract.js';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { CachedBlobReads } from '../../src/storage/cached-blob-reads.js';
import { useS3Server } from '../support/s3-server.js';

const s3 = useS3Server();

describeBlobStoreContract('memory', async () => new MemoryBlobStore());
describeBlobStoreContract('fs', async () => {
  const store = new FsBlobStore(await mkdtemp(join(tmpdir(), 'stowage-blobs-')));
  await store.init();
  return store;
});
describeBlobStoreContract('s3', async () => s3().blobStore());
describeBlobStoreContract('s3 (multipart, redirecting)', async () =>
  s3().blobStore({ redirectTtlSeconds: 60, writer: { partSize: 5 * 1024 * 1024, queueSize: 2 } }),
);
describeBlobStoreContract('fs behind cached reads', async () => {
  const store = new FsBlobStore(await mkdtemp(join(tmpdir(), 'stowage-blobs-')));
  await store.init();
  return new CachedBlobReads(store);
});
