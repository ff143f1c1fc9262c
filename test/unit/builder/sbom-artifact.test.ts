import { describe, expect, it } from 'vitest';
import { builtReferrers, sbomMembersOf, writeImageSbom, type ImageSbomInput } from '../../../src/builder/sbom-artifact.js';
import { MetadataKeys, type ImageRecord } from '../../../src/builder/records.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { readBlob } from '../../../src/storage/blob-io.js';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json';
const hello = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-2.12.1';

const record: ImageRecord = {
  oci: { digest: `sha256:${'1'.repeat(64)}`, size: 100, mediaType: OCI },
  docker: { digest: `sha256:${'2'.repeat(64)}`, size: 90, mediaType: DOCKER },
  config: { digest: `sha256:${'3'.repeat(64)}`, size: 10 },
  layers: [],
};

const input: ImageSbomInput = {
  image: 'hello',
  revision: 'latest',
  system: 'x86_64-linux',
  source: 'nix',
  sourceKey: `nix:git:${'f'.repeat(40)}`,
  closure: { paths: [{ path: hello, narSize: 1, narHash: `sha256:${'ab'.repeat(32)}`, references: [] }], roots: [hello], packageRoots: { hello: [hello] } },
  record,
};

describe('SBOM artifacts of built images', () => {
  it('writes one artifact per image manifest, with the subject, the empty config and the SBOM layer', async () => {
    const blobs = new MemoryBlobStore();
    const metadata = new MemoryMetadataStore();
    const artifacts = await writeImageSbom({ blobs, metadata }, input);
    expect(artifacts).toHaveLength(2);
    const manifests = await Promise.all(artifacts.map(async (artifact) => JSON.parse((await readBlob(blobs, artifact.manifest.digest)).toString('utf8')) as {
      artifactType: string; config: { mediaType: string; digest: string; size: number }; layers: Array<{ digest: string }>; subject: { digest: string; mediaType: string };
    }));
    expect(manifests.map((manifest) => manifest.subject)).toEqual([
      { mediaType: OCI, digest: record.oci.digest, size: 100 },
      { mediaType: DOCKER, digest: record.docker?.digest, size: 90 },
    ]);
    expect(manifests[0]?.config).toMatchObject({ mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 });
    expect(manifests[0]?.layers[0]?.digest).toBe(manifests[1]?.layers[0]?.digest);
    const sbom = JSON.parse((await readBlob(blobs, manifests[0]?.layers[0]?.digest ?? '')).toString('utf8')) as { creationInfo: { comment: string }; packages: Array<{ packageFileName?: string }> };
    expect(sbom.creationInfo.comment).toBe(`closure resolved by the nix package source from package set nix:git:${'f'.repeat(40)}`);
    expect(sbom.packages.map((pkg) => pkg.packageFileName).filter(Boolean)).toEqual([hello]);
  });

  it('is deterministic: rebuilding writes the same digests', async () => {
    const first = await writeImageSbom({ blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore() }, input);
    const second = await writeImageSbom({ blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore() }, input);
    expect(second).toEqual(first);
  });

  it('lists an artifact as a referrer of its subject only, filtered by artifact type', async () => {
    const metadata = new MemoryMetadataStore();
    const [oci] = await writeImageSbom({ blobs: new MemoryBlobStore(), metadata }, input);
    expect(await builtReferrers(metadata, record.oci.digest)).toEqual([oci?.manifest]);
    expect(await builtReferrers(metadata, record.oci.digest, 'application/spdx+json')).toHaveLength(1);
    expect(await builtReferrers(metadata, record.oci.digest, 'application/vnd.other')).toEqual([]);
    expect(await builtReferrers(metadata, record.config.digest)).toEqual([]);
  });

  it('makes the artifacts servable under an image name', async () => {
    const metadata = new MemoryMetadataStore();
    const artifacts = await writeImageSbom({ blobs: new MemoryBlobStore(), metadata }, input);
    for (const [key, member] of await sbomMembersOf(metadata, 'hello', record)) await metadata.addToSet(key, member);
    expect((await metadata.members(MetadataKeys.manifests('hello'))).sort()).toEqual(artifacts.map((artifact) => artifact.manifest.digest).sort());
    expect((await metadata.members(MetadataKeys.blobs('hello'))).sort()).toEqual([...new Set(artifacts.flatMap((artifact) => artifact.blobs))].sort());
  });
});
