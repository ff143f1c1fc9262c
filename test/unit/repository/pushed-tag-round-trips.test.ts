import { describe, expect, it } from 'vitest';
import { PushedRepositories } from '../../../src/repository/pushed-repositories.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { putBlob } from '../../../src/storage/blob-io.js';
import { LocalCacheCoherence } from '../../../src/storage/local-cache-coherence.js';
import type { CacheCoherence } from '../../../src/storage/types.js';
import { digestOf, makeImage } from '../../conformance/client.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * A metadata store shared by replicas whose reads wait until `release`: everything released
 * together is one round trip to a remote store, and reads take effect when released, in the
 * order they were sent.
 */
class RoundTripMetadataStore extends MemoryMetadataStore {
  private waiting: Array<() => void> = [];
  gated = false;

  override async get(key: string): Promise<string | null> {
    await this.gate();
    return super.get(key);
  }

  override async getMany(keys: readonly string[]): Promise<Array<string | null>> {
    await this.gate();
    return super.getMany(keys);
  }

  override async isMember(key: string, member: string): Promise<boolean> {
    await this.gate();
    return super.isMember(key, member);
  }

  /** Answers every read sent so far; how many there were. */
  release(): number {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
    return waiting.length;
  }

  private async gate(): Promise<void> {
    if (this.gated) await new Promise<void>((resume) => this.waiting.push(resume));
  }
}

/** The operation's result, and in how many round trips its reads went. */
async function roundTrips<T>(store: RoundTripMetadataStore, operation: () => Promise<T>): Promise<{ value: T; rounds: number }> {
  store.gated = true;
  let outcome: { value: T } | null = null;
  const running = operation().then((value) => {
    outcome = { value };
  });
  let rounds = 0;
  while (outcome === null) {
    await new Promise((resolve) => setImmediate(resolve));
    if (store.release() > 0) rounds += 1;
  }
  await running;
  store.gated = false;
  return { value: (outcome as { value: T }).value, rounds };
}

/** Two replicas on one store; with `coherence`, remembering records as its implementations allow. */
async function twoReplicas(coherence?: CacheCoherence) {
  const blobs = new MemoryBlobStore();
  const metadata = new RoundTripMetadataStore();
  const first = new PushedRepositories(metadata, blobs, Date.now, coherence);
  const second = new PushedRepositories(metadata, blobs, Date.now, coherence);
  const push = async (replica: PushedRepositories, seed: string, tag: string) => {
    const image = makeImage(seed);
    for (const blob of [image.config, ...image.layers]) {
      await putBlob(blobs, blob);
      await replica.linkBlob('team/app', digestOf(blob));
    }
    await replica.putManifest('team/app', tag, image.manifest, MANIFEST);
    return digestOf(image.manifest);
  };
  return { metadata, first, second, push };
}

describe('pulls of a pushed tag', () => {
  it('read the tag and its manifest in one round trip once the tag has been read', async () => {
    const { metadata, first, push } = await twoReplicas();
    const digest = await push(first, 'a', 'v1');
    const cold = await roundTrips(metadata, () => first.getManifest('team/app', 'v1'));
    const warm = await roundTrips(metadata, () => first.getManifest('team/app', 'v1'));
    expect(cold.value?.digest).toBe(digest);
    expect(warm.value?.digest).toBe(digest);
    expect(warm.value?.mediaType).toBe(MANIFEST);
    expect(warm.value?.body.equals(cold.value?.body ?? Buffer.alloc(0))).toBe(true);
    expect([cold.rounds, warm.rounds]).toEqual([2, 1]);
  });

  it('follow a tag another replica moved, at once', async () => {
    const { metadata, first, second, push } = await twoReplicas();
    await push(first, 'a', 'v1');
    await first.getManifest('team/app', 'v1');
    const moved = await push(second, 'b', 'v1');
    const after = await roundTrips(metadata, () => first.getManifest('team/app', 'v1'));
    expect(after.value?.digest).toBe(moved);
    expect(after.rounds).toBe(2);
    expect((await roundTrips(metadata, () => first.getManifest('team/app', 'v1'))).rounds).toBe(1);
  });

  it('find nothing once another replica deleted the tag or its manifest', async () => {
    const { first, second, push } = await twoReplicas();
    const digest = await push(first, 'a', 'v1');
    const other = await push(first, 'b', 'v2');
    await first.getManifest('team/app', 'v1');
    await first.getManifest('team/app', 'v2');
    await second.deleteManifest('team/app', 'v1');
    await second.deleteManifest('team/app', digest);
    expect(await first.getManifest('team/app', 'v1')).toBeNull();
    expect(await first.getManifest('team/app', digest)).toBeNull();
    expect((await first.getManifest('team/app', 'v2'))?.digest).toBe(other);
    const again = await push(second, 'c', 'v1');
    expect((await first.getManifest('team/app', 'v1'))?.digest).toBe(again);
  });
});

describe('pulls of pushed manifests with remembered records', () => {
  it('need no round trip by digest, nor by tag once the tag was read', async () => {
    const { metadata, first, push } = await twoReplicas(new LocalCacheCoherence());
    const digest = await push(first, 'a', 'v1');
    const cold = await roundTrips(metadata, () => first.getManifest('team/app', digest));
    const warm = await roundTrips(metadata, () => first.getManifest('team/app', digest));
    const byTag = await roundTrips(metadata, () => first.getManifest('team/app', 'v1'));
    const byTagAgain = await roundTrips(metadata, () => first.getManifest('team/app', 'v1'));
    expect([cold.value?.digest, warm.value?.digest, byTag.value?.digest, byTagAgain.value?.digest]).toEqual([digest, digest, digest, digest]);
    expect(byTagAgain.value?.mediaType).toBe(MANIFEST);
    expect([cold.rounds, warm.rounds, byTag.rounds, byTagAgain.rounds]).toEqual([1, 0, 1, 0]);
  });

  it('follow a tag another replica moved or deleted, at once', async () => {
    const { metadata, first, second, push } = await twoReplicas(new LocalCacheCoherence());
    await push(first, 'a', 'v1');
    await first.getManifest('team/app', 'v1');
    expect((await roundTrips(metadata, () => first.getManifest('team/app', 'v1'))).rounds).toBe(0);
    const moved = await push(second, 'b', 'v1');
    expect((await first.getManifest('team/app', 'v1'))?.digest).toBe(moved);
    await second.deleteManifest('team/app', 'v1');
    expect(await first.getManifest('team/app', 'v1')).toBeNull();
    // An unknown tag is not remembered: pushed again, it is found at once.
    const again = await push(second, 'c', 'v1');
    expect((await first.getManifest('team/app', 'v1'))?.digest).toBe(again);
  });

  it('forget every tag of a manifest another replica deleted by digest', async () => {
    const { first, second, push } = await twoReplicas(new LocalCacheCoherence());
    const digest = await push(first, 'a', 'v1');
    const body = (await first.getManifest('team/app', digest))?.body ?? Buffer.alloc(0);
    await first.putManifest('team/app', 'latest', body, MANIFEST);
    const kept = await push(first, 'b', 'v2');
    for (const tag of ['v1', 'latest', 'v2']) await first.getManifest('team/app', tag);
    await second.deleteManifest('team/app', digest);
    expect(await first.getManifest('team/app', 'v1')).toBeNull();
    expect(await first.getManifest('team/app', 'latest')).toBeNull();
    expect((await first.getManifest('team/app', 'v2'))?.digest).toBe(kept);
    // The same bytes pushed again under another tag: the deleted tags stay deleted.
    await second.putManifest('team/app', 'v3', body, MANIFEST);
    expect([await first.getManifest('team/app', 'v1'), await first.getManifest('team/app', 'latest')]).toEqual([null, null]);
    expect((await first.getManifest('team/app', 'v3'))?.digest).toBe(digest);
  });

  it('do not remember a digest that is not a manifest of the repository', async () => {
    const { metadata, first, push } = await twoReplicas(new LocalCacheCoherence());
    await push(first, 'a', 'v1');
    const stranger = digestOf(Buffer.from('not pushed'));
    for (let i = 0; i < 2; i += 1) {
      const read = await roundTrips(metadata, () => first.getManifest('team/app', stranger));
      expect([read.value, read.rounds]).toEqual([null, 1]);
    }
  });

  it('find nothing once another replica deleted the manifest, and the new record once it pushed it again', async () => {
    const { metadata, first, second, push } = await twoReplicas(new LocalCacheCoherence());
    const digest = await push(first, 'a', 'v1');
    const body = (await first.getManifest('team/app', digest))?.body ?? Buffer.alloc(0);
    await second.deleteManifest('team/app', digest);
    expect(await first.getManifest('team/app', digest)).toBeNull();
    await second.putManifest('team/app', 'v2', body, MANIFEST);
    const again = await roundTrips(metadata, () => first.getManifest('team/app', digest));
    expect([again.value?.digest, again.rounds]).toEqual([digest, 1]);
  });
});
