import type { BlobStore, MetadataStore } from '../storage/types.js';
import type { ClosureGraph } from '../sources/types.js';
import type { Descriptor } from '../oci/manifest-validation.js';
import { MediaType } from '../oci/media-types.js';
import { FIXED_CREATED } from '../oci/image.js';
import { putBlob } from '../storage/blob-io.js';
import { SPDX_JSON_MEDIA_TYPE, spdxDocument } from '../sbom/spdx-document.js';
import { MetadataKeys, parseRecord, type ImageRecord, type ManifestRef } from './records.js';
import { BuiltImageKeys } from '../storage/metadata-keys.js';
import { readMany } from '../storage/metadata-batch.js';
import type { ImmutableRecords } from './immutable-records.js';

/**
 * Every built image gets an SPDX SBOM, stored as an OCI artifact: a manifest with
 * `artifactType: application/spdx+json`, the empty config, one layer (the SPDX JSON) and the
 * image manifest as `subject`, so the referrers API lists it. One artifact per image manifest
 * (OCI and, for gzip images, Docker), sharing the SBOM blob.
 *
 * Keys:
 *   sbom:<image manifest digest>    SbomArtifact as JSON, written after its blobs are committed
 *
 * The artifact's manifest and blobs join the image name's manifest and blob sets (as the image's
 * own do), so `GET /v2/<name>/manifests/<digest>` and `/blobs/<digest>` serve them.
 */
export interface SbomArtifact {
  /** Descriptor of the artifact manifest, as the referrers API lists it. */
  readonly manifest: Descriptor;
  /** The config and SBOM blobs the manifest names. */
  readonly blobs: readonly string[];
}


/** The OCI empty descriptor's content, `{}`, as the image spec defines it. */
const EMPTY_JSON = Buffer.from('{}');
const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';

export interface ImageSbomInput {
  readonly image: string;
  readonly revision: string;
  readonly system: string;
  readonly source: string;
  /** The source's key for the package-set state (`nix:git:<commit>`), null for a moving target. */
  readonly sourceKey: string | null;
  readonly closure: ClosureGraph;
  readonly record: ImageRecord;
}

/** Write the SBOM of a freshly built image and its artifact manifests, then record them. */
export async function writeImageSbom(deps: { readonly blobs: BlobStore; readonly metadata: MetadataStore }, input: ImageSbomInput, signal?: AbortSignal): Promise<SbomArtifact[]> {
  const document = spdxDocument({
    image: input.image,
    revision: input.revision,
    system: input.system,
    source: input.source,
    sourceKey: input.sourceKey,
    manifestDigest: input.record.oci.digest,
    // The image config's own fixed `created`: a rebuild must give the same SBOM digest.
    created: FIXED_CREATED,
    roots: input.closure.roots,
    paths: input.closure.paths,
  });
  const sbom = await putBlob(deps.blobs, Buffer.from(JSON.stringify(document)), signal);
  const config = await putBlob(deps.blobs, EMPTY_JSON, signal);
  const artifacts: SbomArtifact[] = [];
  for (const subject of [input.record.oci, ...(input.record.docker ? [input.record.docker] : [])]) {
    const body = artifactManifest(subject, config, sbom);
    const written = await putBlob(deps.blobs, body, signal);
    const artifact: SbomArtifact = {
      manifest: { mediaType: MediaType.ociManifest, digest: written.digest, size: written.size, artifactType: SPDX_JSON_MEDIA_TYPE },
      blobs: [config.digest, sbom.digest],
    };
    await deps.metadata.set(BuiltImageKeys.sbom(subject.digest), JSON.stringify(artifact));
    artifacts.push(artifact);
  }
  return artifacts;
}

/**
 * The set members that make a name serve its image's SBOM artifacts (manifest and blobs), for
 * the read model to check and write where missing. The artifacts are read in one batch, or
 * taken from `records` (they never change once written).
 */
export async function sbomMembersOf(metadata: MetadataStore, canonicalName: string, record: ImageRecord, records?: ImmutableRecords): Promise<Array<readonly [string, string]>> {
  const subjects = [record.oci, ...(record.docker ? [record.docker] : [])].map((subject) => subject.digest);
  const artifacts = records
    ? await records.sbomsOf(metadata, subjects)
    : (await readMany(metadata, subjects.map((digest) => BuiltImageKeys.sbom(digest)))).map((json) => validArtifact(json));
  const members: Array<readonly [string, string]> = [];
  for (const artifact of artifacts) {
    if (artifact === null) continue;
    members.push([MetadataKeys.manifests(canonicalName), artifact.manifest.digest]);
    for (const digest of artifact.blobs) members.push([MetadataKeys.blobs(canonicalName), digest]);
  }
  return members;
}

/** Descriptors of the built artifacts whose subject is `subjectDigest`, optionally of one type. */
export async function builtReferrers(metadata: MetadataStore, subjectDigest: string, artifactType?: string): Promise<Descriptor[]> {
  const artifact = await readArtifact(metadata, subjectDigest);
  if (artifact === null || (artifactType !== undefined && artifact.manifest.artifactType !== artifactType)) return [];
  return [artifact.manifest];
}

async function readArtifact(metadata: MetadataStore, subjectDigest: string): Promise<SbomArtifact | null> {
  return validArtifact(await metadata.get(BuiltImageKeys.sbom(subjectDigest)));
}

/** A stored artifact record, or null when missing or malformed. */
export function validArtifact(json: string | null): SbomArtifact | null {
  const artifact = parseRecord<SbomArtifact>(json);
  return artifact !== null && typeof artifact.manifest?.digest === 'string' && Array.isArray(artifact.blobs) ? artifact : null;
}

function artifactManifest(subject: ManifestRef, config: { digest: string; size: number }, sbom: { digest: string; size: number }): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: SPDX_JSON_MEDIA_TYPE,
      config: { mediaType: EMPTY_MEDIA_TYPE, digest: config.digest, size: config.size, data: EMPTY_JSON.toString('base64') },
      layers: [{ mediaType: SPDX_JSON_MEDIA_TYPE, digest: sbom.digest, size: sbom.size, annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' } }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
  );
}
