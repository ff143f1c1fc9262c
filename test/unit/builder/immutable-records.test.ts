import { describe, expect, it } from 'vitest';
import { ImmutableRecords } from '../../../src/builder/immutable-records.js';
import type { ImageRecord } from '../../../src/builder/records.js';
import type { SbomArtifact } from '../../../src/builder/sbom-artifact.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { CountingMetadataStore } from '../../support/counting-metadata-store.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const record = (n: number): ImageRecord => ({
  oci: { digest: digest(n), size: 100, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
  docker: null,
  config: { digest: digest(n + 1), size: 10 },
  layers: [digest(n + 2)],
});
const artifact: SbomArtifact = { manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest(9), size: 5, artifactType: 'application/spdx+json' }, blobs: [digest(10)] };

describe('ImmutableRecords', () => {
  it('keeps image records within its count and byte bounds', () => {
    const records = new ImmutableRecords({ maxEntries: 100, maxBytes: 64 * 1024 });
    for (let i = 0; i < 10_000; i += 1) records.rememberImage(`image:${i}`, record(i));
    expect(records.stats.images.entries).toBeLessThanOrEqual(100);
    expect(records.stats.images.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(records.image('image:9999')).toEqual(record(9999));
    expect(records.image('image:0')).toBeUndefined();
    records.forgetImage('image:9999');
    expect(records.image('image:9999')).toBeUndefined();
  });

  it('reads SBOM artifacts once, in one batch; believes an absence only for its TTL', async () => {
    let now = 0;
    const metadata = new CountingMetadataStore(new MemoryMetadataStore());
    const records = new ImmutableRecords({ absentTtlMs: 1_000, now: () => now });
    await metadata.set(`sbom:${digest(1)}`, JSON.stringify(artifact));
    await metadata.set(`sbom:${digest(3)}`, 'not json');
    metadata.reset();
    expect(await records.sbomsOf(metadata, [digest(1), digest(2), digest(3)])).toEqual([artifact, null, null]);
    expect(metadata.roundTrips).toBe(1);
    expect(metadata.calls).toHaveLength(1);

    metadata.reset();
    await metadata.set(`sbom:${digest(2)}`, JSON.stringify(artifact)); // written by another process
    metadata.reset();
    now = 999;
    expect(await records.sbomsOf(metadata, [digest(1), digest(2)])).toEqual([artifact, null]);
    expect(metadata.calls).toEqual([]);
    now = 1_000;
    expect(await records.sbomsOf(metadata, [digest(1), digest(2)])).toEqual([artifact, artifact]);
    expect(metadata.calls).toEqual([`getMany sbom:${digest(2)}`]);
  });

  it('keeps SBOM artifacts within its bounds', async () => {
    const records = new ImmutableRecords({ maxEntries: 50, maxBytes: 1024 * 1024 });
    const metadata = new MemoryMetadataStore();
    for (let i = 0; i < 1_000; i += 1) await records.sbomsOf(metadata, [digest(i)]);
    expect(records.stats.sboms.entries).toBeLessThanOrEqual(50);
  });
});
