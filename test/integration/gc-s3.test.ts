import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsMetadataStore } from '../../src/storage/fs-metadata-store.js';
import { putBlob } from '../../src/storage/blob-io.js';
import { PushedRepositories } from '../../src/repository/pushed-repositories.js';
import { useS3Server } from '../support/s3-server.js';
import { stowage } from '../support/stowage-cli.js';

/** `stowage gc` against blobs in S3 (s3rver), the documented multi-replica setup. */
const s3 = useS3Server();
let dataDir = '';
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stowage-gc-s3-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('stowage gc on S3', () => {
  it('deletes unreferenced blobs from the bucket and keeps referenced ones', { timeout: 120_000 }, async () => {
    const prefix = 'gc-cli/';
    const blobs = s3().blobStore({ prefix });
    const kept = await putBlob(blobs, Buffer.from('a pushed layer, referenced'));
    const orphan = await putBlob(blobs, Buffer.from('nothing references this'));
    await new PushedRepositories(new FsMetadataStore(join(dataDir, 'metadata')), blobs).linkBlob('team/app', kept.digest);
    // S3 dates objects to the second, which the store rounds up (a blob is never taken as older
    // than it is): with --grace 0, gc in the same second as the upload would rightly keep it.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 50));
    const env = {
      ...s3().env,
      STOWAGE_STORAGE_BACKEND: 's3',
      STOWAGE_S3_BUCKET: s3().bucket,
      STOWAGE_S3_ENDPOINT: s3().endpoint,
      STOWAGE_S3_FORCE_PATH_STYLE: 'true',
      STOWAGE_S3_PREFIX: prefix,
    };

    const dry = await stowage(['gc', '--dry-run', '--grace', '0', '--json', '--data-dir', dataDir], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, blobs: 2, referenced: 1, deleted: [orphan] });
    expect(await blobs.stat(orphan.digest)).toEqual(orphan);

    const real = await stowage(['gc', '--grace', '0', '--json', '--data-dir', dataDir], env);
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, blobs: 2, referenced: 1, deleted: [orphan] });
    const fresh = s3().blobStore({ prefix });
    expect(await fresh.stat(orphan.digest)).toBeNull();
    expect(await fresh.stat(kept.digest)).toEqual(kept);
  });
});
