import type { StorePathInfo } from '../sources/types.js';
import { identify, type PackageIdentity } from './package-identity.js';

/** Media type of an SPDX JSON document, also the artifact type of the SBOM manifest. */
export const SPDX_JSON_MEDIA_TYPE = 'application/spdx+json';

/** What an image's SBOM describes. */
export interface SbomSubject {
  /** Canonical image name and the tag (revision) it was built for. */
  readonly image: string;
  readonly revision: string;
  readonly system: string;
  /** Name of the package source that resolved the closure (`nix`, `catalog`, `debian`), named in the creation comment. */
  readonly source: string;
  /** The package-set state the closure was resolved from (`nix:git:<commit>`), when it is stable. */
  readonly sourceKey?: string | null;
  /** The image's OCI manifest digest: the SBOM's namespace is derived from it. */
  readonly manifestDigest: string;
  /**
   * Creation time. Images are built with fixed timestamps so that the same closure always gives
   * the same digests; the SBOM takes the image config's `created` for the same reason, so that
   * rebuilding an image rewrites the same SBOM blob and artifact manifest.
   */
  readonly created: string;
  /** The requested packages' output paths. */
  readonly roots: readonly string[];
  readonly paths: readonly StorePathInfo[];
}

export interface SpdxDocument {
  readonly spdxVersion: 'SPDX-2.3';
  readonly dataLicense: 'CC0-1.0';
  readonly SPDXID: 'SPDXRef-DOCUMENT';
  readonly name: string;
  readonly documentNamespace: string;
  readonly creationInfo: { readonly created: string; readonly creators: readonly string[]; readonly comment: string };
  readonly packages: readonly SpdxPackage[];
  readonly relationships: readonly SpdxRelationship[];
}

export interface SpdxPackage {
  readonly SPDXID: string;
  readonly name: string;
  readonly versionInfo?: string;
  readonly downloadLocation: 'NOASSERTION';
  readonly filesAnalyzed: false;
  readonly packageFileName?: string;
  readonly primaryPackagePurpose?: 'CONTAINER' | 'LIBRARY' | 'APPLICATION';
  readonly checksums?: ReadonlyArray<{ readonly algorithm: 'SHA256'; readonly checksumValue: string }>;
  readonly externalRefs?: ReadonlyArray<{ readonly referenceCategory: 'PACKAGE-MANAGER'; readonly referenceType: 'purl'; readonly referenceLocator: string }>;
  readonly comment?: string;
}

export interface SpdxRelationship {
  readonly spdxElementId: string;
  readonly relatedSpdxElement: string;
  readonly relationshipType: 'DESCRIBES' | 'CONTAINS' | 'DEPENDS_ON';
}

const IMAGE_ID = 'SPDXRef-Image';

/**
 * The SPDX 2.3 document of a built image: one package for the image (purpose CONTAINER), one per
 * closure path with name, version and SHA-256, the image CONTAINS every path, and each path
 * DEPENDS_ON the paths it references. Pure and deterministic: paths are sorted, and nothing in
 * it depends on when or where it was generated.
 */
export function spdxDocument(subject: SbomSubject): SpdxDocument {
  const paths = [...subject.paths].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const identities = new Map(paths.map((info) => [info.path, identify(info)]));
  const roots = new Set(subject.roots);
  const packages: SpdxPackage[] = [
    {
      SPDXID: IMAGE_ID,
      name: subject.image,
      versionInfo: subject.revision,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'CONTAINER',
      checksums: [{ algorithm: 'SHA256', checksumValue: subject.manifestDigest.replace(/^sha256:/, '') }],
      comment: `OCI image for ${subject.system}; the checksum is its manifest digest`,
    },
    ...paths.map((info) => pathPackage(info, identities.get(info.path) as PackageIdentity, roots.has(info.path))),
  ];
  const relationships: SpdxRelationship[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: IMAGE_ID, relationshipType: 'DESCRIBES' },
    ...paths.map((info) => ({ spdxElementId: IMAGE_ID, relatedSpdxElement: (identities.get(info.path) as PackageIdentity).spdxId, relationshipType: 'CONTAINS' as const })),
  ];
  for (const info of paths) {
    const from = (identities.get(info.path) as PackageIdentity).spdxId;
    for (const reference of [...info.references].sort()) {
      const to = identities.get(reference);
      if (reference !== info.path && to) relationships.push({ spdxElementId: from, relatedSpdxElement: to.spdxId, relationshipType: 'DEPENDS_ON' });
    }
  }
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${subject.image}:${subject.revision} (${subject.system})`,
    // A URN, not a URL: stowage has no public host name of its own to put here, and the
    // manifest digest makes it unique per image as SPDX requires.
    documentNamespace: `urn:stowage:sbom:${subject.manifestDigest}`,
    creationInfo: { created: subject.created, creators: ['Tool: stowage'], comment: `closure resolved by the ${subject.source} package source${subject.sourceKey ? ` from package set ${subject.sourceKey}` : ''}` },
    packages,
    relationships,
  };
}

function pathPackage(info: StorePathInfo, identity: PackageIdentity, root: boolean): SpdxPackage {
  const hashNote = identity.sha256?.of === 'nar' ? 'the checksum is the SHA-256 of its NAR serialisation (Nix narHash)' : 'the checksum is the SHA-256 of its package archive';
  return {
    SPDXID: identity.spdxId,
    name: identity.name,
    ...(identity.version !== undefined ? { versionInfo: identity.version } : {}),
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    packageFileName: info.path,
    ...(root ? { primaryPackagePurpose: 'APPLICATION' as const } : {}),
    ...(identity.sha256 ? { checksums: [{ algorithm: 'SHA256' as const, checksumValue: identity.sha256.hex }] } : {}),
    ...(identity.purl !== undefined ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER' as const, referenceType: 'purl' as const, referenceLocator: identity.purl }] } : {}),
    comment: identity.sha256 ? `${info.path}; ${hashNote}` : info.path,
  };
}
