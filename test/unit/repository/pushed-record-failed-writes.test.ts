import { describe, expect, it } from 'vitest';
import { PushedRepositories } from '../../../src/repository/pushed-repositories.js';
import { ManifestNotFoundError } from '../../../src/repository/errors.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { putBlob } from '../../../src/storage/blob-io.js';
import { StorageUnavailableError } from '../../../src/storage/errors.js';
import { LocalCacheCoherence } from '../../../src/storage/local-cache-coherence.js';
import { PushedRepositoryKeys } from '../../../src/storage/metadata-keys.js';
import { digestOf, makeImage } from '../../conformance/client.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A shared store whose next delete of `failing` is refused, as Redis going away mid-request. */
class RefusingMetadataStore extends MemoryMetadataStore {
  failing: string | null = null;
  /** The next add to this set is refused after it was applied, as a reply lost on the way back. */
  failingAdd: string | null = null;

  override async addToSet(key: string, member: string): Promise<void> {
    await super.addToSet(key, member);
    if (key === this.failingAdd) {
      this.failingAdd = null;
      throw new StorageUnavailableError('Redis is unreachable (SADD: connection reset)');
    }
  }

  override async delete(key: string): Promise<void> {
    if (key === this.failing) {
      this.failing = null;
      throw new StorageUnavailableError('Redis is unreachable (DEL: not connected)');
    }
    return super.delete(key);
  }
}

/** Two replicas on one refusing store; `push` pushes a small image as `team/app:v1` through the second. */
function twoReplicas() {
  const blobs = new MemoryBlobStore();
  const metadata = new RefusingMetadataStore();
  const coherence = new LocalCacheCoherence();
  const serving = new PushedRepositories(metadata, blobs, Date.now, coherence);
  const writing = new PushedRepositories(metadata, blobs, Date.now, coherence);
  const push = async (seed: string): Promise<string> => {
    const image = makeImage(seed);
    for (const blob of [image.config, ...image.layers]) {
      await putBlob(blobs, blob);
      await writing.linkBlob('team/app', digestOf(blob));
    }
    await writing.putManifest('team/app', 'v1', image.manifest, MANIFEST);
    return digestOf(image.manifest);
  };
  return { metadata, serving, writing, push };
}

describe('remembered records of pushed manifests after a write that failed partway', () => {
  it('are forgotten everywhere once a DELETE removed the membership, even though a later write failed', async () => {
    const { metadata, serving, writing: deleting, push } = twoReplicas();
    const digest = await push('partial');
    expect((await serving.getManifest('team/app', digest))?.digest).toBe(digest);

    // The membership is removed, then the record's delete is refused: the DELETE answers 503.
    metadata.failing = PushedRepositoryKeys.info('team/app', digest);
    await expect(deleting.deleteManifest('team/app', digest)).rejects.toThrow(StorageUnavailableError);
    expect(await metadata.isMember(PushedRepositoryKeys.manifests('team/app'), digest)).toBe(false);
    expect(await serving.getManifest('team/app', digest)).toBeNull();
    // The client's retry finds no such manifest, so it cannot be what makes replicas forget.
    await expect(deleting.deleteManifest('team/app', digest)).rejects.toThrow(ManifestNotFoundError);
    expect(await serving.getManifest('team/app', digest)).toBeNull();
  });

  it('never keep a tag whose move failed partway: the move may have reached the store', async () => {
    const { metadata, serving, push } = twoReplicas();
    const first = await push('before');
    expect((await serving.getManifest('team/app', 'v1'))?.digest).toBe(first);

    // The tag is written, then the write after it fails: the PUT answers 503, the tag has moved.
    metadata.failingAdd = PushedRepositoryKeys.tags('team/app');
    await expect(push('after')).rejects.toThrow(StorageUnavailableError);
    const moved = await metadata.get(PushedRepositoryKeys.tag('team/app', 'v1'));
    expect(moved).not.toBe(first);
    expect((await serving.getManifest('team/app', 'v1'))?.digest).toBe(moved);
  });
});

describe('a write that failed, whose change notice failed too', () => {
  it('answers with the write\'s error, not the notice\'s (which says the change was written)', async () => {
    const blobs = new MemoryBlobStore();
    const metadata = new RefusingMetadataStore();
    const coherence = new LocalCacheCoherence();
    coherence.invalidate = async () => {
      throw new StorageUnavailableError('Redis did not take the change notice for other replicas; it is sent again when Redis answers');
    };
    const repos = new PushedRepositories(metadata, blobs, Date.now, coherence);
    const image = makeImage('both-fail');
    for (const blob of [image.config, ...image.layers]) {
      await putBlob(blobs, blob);
      await repos.linkBlob('team/app', digestOf(blob));
    }
    metadata.failingAdd = PushedRepositoryKeys.tags('team/app');
    await expect(repos.putManifest('team/app', 'v1', image.manifest, MANIFEST)).rejects.toThrow(/SADD: connection reset/);
    metadata.failing = PushedRepositoryKeys.tag('team/app', 'v1');
    await expect(repos.deleteManifest('team/app', 'v1')).rejects.toThrow(/DEL: not connected/);
  });
});
