import { reportingStoreReader } from '../reporting-store-reader.js';
import type { ClosureGraph, ImageRequest, PackageSetRevision, PackageSource, PackageSummary, ResolveOptions, StoreReader } from '../types.js';
import { PackageNotFoundError, RevisionNotFoundError } from '../errors.js';
import { assertValidAttrPath } from '../attr-path.js';
import type { BinaryCache } from '../binary-cache/binary-cache.js';
import { closureFromCache } from '../binary-cache/closure.js';
import type { Catalog } from './catalog.js';

export interface CatalogPackageSourceOptions {
  /** The catalog in use (reloaded by its provider when the files change). */
  readonly catalog: () => Promise<Catalog>;
  readonly cache: BinaryCache;
  /** Reads store paths out of `cache`. */
  readonly reader: StoreReader;
}

/**
 * Resolves package lists without Nix: names → store paths through the catalog (the tag is the
 * catalog revision), closures from the binary cache's signed narinfos, contents from its NARs.
 * Images are cacheable: a revision's store paths never change unless the catalog does.
 */
export class CatalogPackageSource implements PackageSource {
  readonly name = 'catalog';
  readonly reader: StoreReader;

  constructor(private readonly options: CatalogPackageSourceOptions) {
    this.reader = options.reader;
  }

  /** True when the catalog has `revision` (a revision or an alias) for `system`. */
  async has(revision: string, system: string): Promise<boolean> {
    return (await this.options.catalog()).has(revision, system);
  }

  /** Aliases first (`latest`), then revisions, newest (greatest) first. */
  async revisions(): Promise<string[]> {
    const catalog = await this.options.catalog();
    const revisions = catalog.tags().filter((tag) => catalog.revisionOf(tag) === tag);
    const aliases = catalog.tags().filter((tag) => catalog.revisionOf(tag) !== tag);
    return [...aliases.sort(), ...revisions.sort().reverse()];
  }

  async cacheKey(request: ImageRequest): Promise<string> {
    const catalog = await this.options.catalog();
    const identity = catalog.identity(request.revision, request.system);
    if (identity === undefined) throw new RevisionNotFoundError(request.revision, catalog.tags(request.system));
    return `catalog:${identity}`;
  }

  async resolve(request: ImageRequest, { signal, onProgress }: ResolveOptions): Promise<ClosureGraph> {
    const catalog = await this.options.catalog();
    if (!catalog.has(request.revision, request.system)) throw new RevisionNotFoundError(request.revision, catalog.tags(request.system));
    for (const name of request.packages) assertValidAttrPath(name);
    const packageRoots: Record<string, readonly string[]> = {};
    const missing: string[] = [];
    for (const name of request.packages) {
      const match = catalog.lookup(request.revision, request.system, name);
      if (match) packageRoots[name] = match.outputs;
      else missing.push(name);
    }
    if (missing.length > 0) throw new PackageNotFoundError(missing);
    const roots = [...new Set(request.packages.flatMap((name) => packageRoots[name] ?? []))];
    onProgress?.({ kind: 'log', text: `reading the closure of ${roots.length} outputs from the binary cache` });
    const paths = await closureFromCache(this.options.cache, roots, signal);
    if (!onProgress) return { paths, roots, packageRoots, reader: this.reader };
    const narBytes = paths.reduce((total, info) => total + info.narSize, 0);
    onProgress({ kind: 'log', text: `closure of ${paths.length} store paths (${(narBytes / (1024 * 1024)).toFixed(1)} MiB unpacked)` });
    return { paths, roots, packageRoots, reader: reportingStoreReader(this.reader, paths, 'the binary cache', onProgress) };
  }

  async listPackages({ revision, system }: PackageSetRevision): Promise<PackageSummary[]> {
    const catalog = await this.options.catalog();
    if (!catalog.has(revision, system)) throw new RevisionNotFoundError(revision, catalog.tags(system));
    return catalog.packages(revision, system);
  }

  /** Sums of NarSize over each package's closure, from the cache's narinfos; null when unknown or unreadable. */
  async closureSizes({ revision, system }: PackageSetRevision, packages: readonly string[], { signal }: ResolveOptions): Promise<Record<string, number | null>> {
    const catalog = await this.options.catalog();
    const sizes: Record<string, number | null> = {};
    for (const name of packages) {
      const match = catalog.lookup(revision, system, name);
      if (!match) {
        sizes[name] = null;
        continue;
      }
      try {
        const closure = await closureFromCache(this.options.cache, match.outputs, signal);
        sizes[name] = closure.reduce((total, info) => total + info.narSize, 0);
      } catch {
        signal.throwIfAborted();
        sizes[name] = null;
      }
    }
    return sizes;
  }
}
