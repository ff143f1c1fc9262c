import { MediaType } from '../oci/media-types.js';
import { LruMap } from '../cache/lru-map.js';

/** A manifest as pushed (the registry's PushedRepositories gives it). */
export interface PushedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Buffer;
  /** ISO 8601; absent for manifests pushed before push times were recorded. */
  readonly pushedAt?: string;
}

/** What the UI reads of pushed repositories. */
export interface PushedRepositoryReader {
  isPushed(name: string): Promise<boolean>;
  /** Every tag of `name`, in no particular order. */
  tags(name: string): Promise<string[]>;
  /** A manifest by tag or digest, or null. */
  getManifest(name: string, reference: string): Promise<PushedManifest | null>;
  /** Up to `limit` repository names sorting after `after`, ascending. */
  names(after: string | undefined, limit: number): Promise<string[]>;
}

/** Tags one page shows at most: each costs a manifest read (two or more for an index). */
export const MAX_TAGS_SHOWN = 100;
/** Platforms of one index read at most. */
const MAX_PLATFORMS = 32;
/**
 * Manifest bytes one page reads at most (a manifest may be 4 MiB, and an index's platforms
 * are read too): past it the page ends early, with `nextTag` asking the rest, and platforms of
 * the index being read are listed without sizes. Without it, one page view read and parsed up
 * to 100 × 33 manifests of 4 MiB, whoever pushed them.
 */
export const MAX_PAGE_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface PlatformSize {
  /** `linux/amd64`, `linux/arm64/v8`, or `unknown`. */
  readonly platform: string;
  readonly digest: string;
  /** Config plus layers of that platform's image; null when its manifest is not in the repository, or the page read enough (MAX_PAGE_MANIFEST_BYTES). */
  readonly size: number | null;
}

export interface PushedTagView {
  readonly tag: string;
  readonly digest: string;
  readonly mediaType: string;
  /** `index`: a multi-platform image; `artifact`: a manifest with an artifactType or a config that is not an image's. */
  readonly kind: 'image' | 'index' | 'artifact';
  readonly artifactType: string | null;
  /** Bytes the tag's content takes: config plus layers, for an index its platforms' (each blob once). */
  readonly size: number;
  readonly layers: number | null;
  readonly platforms: readonly PlatformSize[];
  readonly pushedAt: string | null;
}

export interface PushedRepositoryView {
  readonly kind: 'pushed';
  readonly name: string;
  readonly tags: readonly PushedTagView[];
  /** Tags in the repository, shown or not. */
  readonly totalTags: number;
  /** The `last` that asks the page of tags after these, or null when these are the last ones. */
  readonly nextTag: string | null;
}

interface Blob {
  readonly digest?: unknown;
  readonly size?: unknown;
  readonly mediaType?: unknown;
  readonly platform?: { readonly os?: unknown; readonly architecture?: unknown; readonly variant?: unknown };
}

interface ManifestBody {
  readonly mediaType?: unknown;
  readonly artifactType?: unknown;
  readonly config?: unknown;
  readonly layers?: unknown;
  readonly manifests?: unknown;
}

type Repositories = Pick<PushedRepositoryReader, 'tags' | 'getManifest'>;

/**
 * The tags of pushed repository `name` with what each holds: a page of at most MAX_TAGS_SHOWN by
 * name, those sorting after `last` (the `nextTag` of the page before) when given.
 */
export async function describePushedRepository(repositories: Repositories, name: string, last?: string): Promise<PushedRepositoryView> {
  const all = (await repositories.tags(name)).sort();
  const after = last === undefined ? all : all.filter((tag) => tag > last);
  const page = after.slice(0, MAX_TAGS_SHOWN);
  const tags: PushedTagView[] = [];
  const budget = { left: MAX_PAGE_MANIFEST_BYTES };
  let read = 0;
  for (const tag of page) {
    if (budget.left <= 0) break;
    read += 1;
    const manifest = await repositories.getManifest(name, tag);
    // Deleted between listing and reading: not shown.
    if (manifest === null) continue;
    tags.push(await describeTag(repositories, name, tag, manifest, budget));
  }
  const more = after.length > read;
  return { kind: 'pushed', name, tags, totalTags: all.length, nextTag: more ? (page[read - 1] ?? null) : null };
}

async function describeTag(repositories: Repositories, name: string, tag: string, manifest: PushedManifest, budget: { left: number }): Promise<PushedTagView> {
  const summary = summaryOf(manifest, budget);
  const base = { tag, digest: manifest.digest, mediaType: manifest.mediaType, pushedAt: manifest.pushedAt ?? null };
  const { artifactType } = summary;
  // What the manifest is comes from its validated media type (a record too old to hold one: from
  // having manifests and no config), not from any field alone: validation checks the fields of
  // its own kind only, and a client may add any other, of any shape.
  if (INDEX_TYPES.has(manifest.mediaType) || (!summary.hasConfig && summary.children !== null)) {
    const platforms: PlatformSize[] = [];
    const blobs = new Map<string, number>();
    for (const child of summary.children ?? []) {
      const stored = budget.left > 0 ? await repositories.getManifest(name, child.digest) : null;
      const childBlobs = stored === null ? null : summaryOf(stored, budget).blobs;
      for (const [digest, size] of childBlobs ?? []) blobs.set(digest, size);
      platforms.push({ platform: child.platform, digest: child.digest, size: childBlobs === null ? null : sum(childBlobs.map(([, size]) => size)) });
    }
    return { ...base, kind: 'index', artifactType, size: sum(blobs.values()), layers: null, platforms };
  }
  const image = artifactType === null && summary.configType !== null && /image\.config|container\.image/.test(summary.configType);
  return { ...base, kind: image ? 'image' : 'artifact', artifactType, size: sum(summary.blobs.map(([, size]) => size)), layers: summary.layers, platforms: [] };
}

/** What a page shows of one manifest, read once from its bytes. */
interface ManifestSummary {
  readonly artifactType: string | null;
  readonly hasConfig: boolean;
  readonly configType: string | null;
  /** Config and layers, by digest, with their sizes. */
  readonly blobs: ReadonlyArray<readonly [string, number]>;
  readonly layers: number;
  /** The first MAX_PLATFORMS entries of `manifests` that name a digest; null when it is not a list. */
  readonly children: ReadonlyArray<{ readonly digest: string; readonly platform: string }> | null;
}

/**
 * Summaries by manifest digest: a manifest's bytes never change under its digest, so each is
 * parsed once, not on every view of every page (up to MAX_PAGE_MANIFEST_BYTES of JSON each).
 * Bounded by entries and by a weight that follows the summary's length.
 */
const summaries = new LruMap<string, ManifestSummary>(
  8 * 1024 * 1024,
  (summary) => 256 + summary.blobs.length * 96 + (summary.children?.length ?? 0) * 128,
  10_000,
);

/** The manifest's summary, parsing it (and charging the page's budget) only when not known. */
function summaryOf(manifest: PushedManifest, budget: { left: number }): ManifestSummary {
  const known = summaries.get(manifest.digest);
  if (known !== undefined) return known;
  budget.left -= manifest.body.length;
  const body = parseBody(manifest.body);
  const config = descriptor(body.config);
  const summary: ManifestSummary = {
    artifactType: typeof body.artifactType === 'string' ? body.artifactType : null,
    hasConfig: config !== null,
    configType: typeof config?.mediaType === 'string' ? config.mediaType : null,
    blobs: [...blobsOf(body)],
    layers: descriptors(body.layers).length,
    children: Array.isArray(body.manifests)
      ? descriptors(body.manifests)
          .slice(0, MAX_PLATFORMS)
          .flatMap((child) => (typeof child.digest === 'string' ? [{ digest: child.digest, platform: platformOf(child) }] : []))
      : null,
  };
  summaries.set(manifest.digest, summary);
  return summary;
}

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);

/** A manifest field holding a descriptor object, or null when it holds anything else. */
function descriptor(value: unknown): Blob | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Blob) : null;
}

/** The descriptor objects of a manifest's list field; anything else found there is left out. */
function descriptors(value: unknown): Blob[] {
  return Array.isArray(value) ? value.map(descriptor).filter((item): item is Blob => item !== null) : [];
}

/** Config and layers by digest, with their sizes. */
function blobsOf(body: ManifestBody): Map<string, number> {
  const blobs = new Map<string, number>();
  const config = descriptor(body.config);
  for (const blob of [...(config ? [config] : []), ...descriptors(body.layers)]) {
    if (blob && typeof blob.digest === 'string' && typeof blob.size === 'number') blobs.set(blob.digest, blob.size);
  }
  return blobs;
}

function platformOf(entry: Blob): string {
  const platform = typeof entry.platform === 'object' && entry.platform !== null ? entry.platform : {};
  const { os, architecture, variant } = platform;
  if (typeof os !== 'string' || typeof architecture !== 'string') return 'unknown';
  return [os, architecture, ...(typeof variant === 'string' ? [variant] : [])].join('/');
}

function parseBody(bytes: Buffer): ManifestBody {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as ManifestBody) : {};
  } catch {
    // Stored manifests were validated on push; an unreadable one is shown without sizes.
    return {};
  }
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
