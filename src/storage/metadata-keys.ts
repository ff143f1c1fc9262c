/**
 * Every key stowage writes into the MetadataStore, built here and nowhere else, so the whole
 * key space can be read in one place (and garbage collection, which scans values for digests,
 * never depends on a key shape).
 *
 * Built images (written by the builder, read through its BuiltImages read model):
 *   image:<image key>                ImageRecord JSON: manifests, config and layers of one system
 *   layer:<layer key>                LayerRecord JSON: a built layer, by the key of its content
 *   tags:<canonical name>            set of revisions (tags) built under the name
 *   manifests:<canonical name>       set of manifest and index digests served under the name
 *   image-blobs:<canonical name>     set of config and layer digests served under the name
 *   image-info:<manifest digest>     ImageInfo JSON for the image explorer
 *   layer-images:<layer digest>      set of `<name>:<tag>` using the layer
 *   built-images                     set of every `<name>:<tag>` built here
 *   sbom:<manifest digest>           SbomArtifact JSON: the SBOM referrer of a built manifest
 *   pulled:<canonical name>          epoch ms of the last pull by tag (image expiry, gc)
 *
 * Pushed repositories (written and read by PushedRepositories):
 *   repo:<name>                      marker: the repository has pushed content
 *   repositories                     set of every repository name with pushed content (the catalog)
 *   repositories-listed              marker: every `repo:` record is in `repositories` (the one-time backfill ran)
 *   repo-blobs:<name>                set of blob digests linked into the repository
 *   repo-manifests:<name>            set of manifest digests in the repository
 *   repo-tags:<name>                 set of tags
 *   repo-tag:<name>:<tag>            the manifest digest a tag points at
 *   manifest-info:<name>:<digest>    descriptor of a pushed manifest (type, size, artifact type)
 *   referrers:<name>:<digest>        set of manifest digests whose subject is <digest>
 *
 * Co-occurrence data for the layering (builder's ClosureWindow and FrozenCoOccurrence):
 *   cooc-images                      set of `<15-digit epoch ms>:<names hash>`, oldest first: the window
 *   cooc-image:<names hash>          JSON { at, names }: the package names of one recorded closure
 *   cooc-table                       the frozen co-occurrence table (serialised, see co-occurrence-file.ts)
 *   cooc-table-version               JSON { version, computedAt }: read on every check, cheaper than the table
 *
 * Upload sessions (UploadSessions):
 *   uploads                          set of open upload session ids
 *   upload:<id>                      session record JSON (repository, creation time)
 */
export const BuiltImageKeys = {
  image: (imageKey: string) => `image:${imageKey}`,
  layer: (layerKey: string) => `layer:${layerKey}`,
  tags: (canonicalName: string) => `tags:${canonicalName}`,
  manifests: (canonicalName: string) => `manifests:${canonicalName}`,
  blobs: (canonicalName: string) => `image-blobs:${canonicalName}`,
  info: (manifestDigest: string) => `image-info:${manifestDigest}`,
  layerImages: (layerDigest: string) => `layer-images:${layerDigest}`,
  builtImages: 'built-images',
  /** Canonical names with a built image, for the catalog (`built-images` holds `<name>:<tag>`, which does not sort by name). */
  builtNames: 'built-names',
  builtNamesComplete: 'built-names-listed',
  sbom: (subjectDigest: string) => `sbom:${subjectDigest}`,
  pulled: (canonicalName: string) => `pulled:${canonicalName}`,
} as const;

export const PushedRepositoryKeys = {
  repo: (name: string) => `repo:${name}`,
  repositories: 'repositories',
  listingComplete: 'repositories-listed',
  blobs: (name: string) => `repo-blobs:${name}`,
  manifests: (name: string) => `repo-manifests:${name}`,
  tags: (name: string) => `repo-tags:${name}`,
  tag: (name: string, tag: string) => `repo-tag:${name}:${tag}`,
  info: (name: string, digest: string) => `manifest-info:${name}:${digest}`,
  referrers: (name: string, digest: string) => `referrers:${name}:${digest}`,
} as const;

export const CoOccurrenceKeys = {
  window: 'cooc-images',
  image: (namesHash: string) => `cooc-image:${namesHash}`,
  table: 'cooc-table',
  tableVersion: 'cooc-table-version',
} as const;

export const UploadKeys = {
  sessions: 'uploads',
  session: (id: string) => `upload:${id}`,
} as const;

/**
 * The sets listings page through (`MetadataStore.membersAfter`): a store keeps these in order
 * (Redis: a sorted set beside each), so a catalog or UI page reads only itself.
 */
export const LISTED_SETS: readonly string[] = [PushedRepositoryKeys.repositories, BuiltImageKeys.builtNames, BuiltImageKeys.builtImages];
