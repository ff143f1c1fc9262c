import type { ClosureGraph, ImageRequest, PackageSetRevision, PackageSource, PackageSummary, ResolveOptions, StoreReader } from '../types.js';
import { RevisionNotFoundError } from '../errors.js';
import type { CatalogPackageSource } from './catalog-package-source.js';

/**
 * Two sources at once: tags the catalog knows (for the request's system) go to the catalog
 * source, every other tag (`latest`) to the fallback, typically the Nix source. Closures carry
 * the reader (and name) of the source that resolved them, so each image's layers are read from the right
 * place; `reader` is the fallback's, for callers that do not look at the closure.
 */
export class RevisionRoutingSource implements PackageSource {
  readonly name: string;
  readonly reader: StoreReader;

  constructor(
    private readonly catalog: CatalogPackageSource,
    private readonly fallback: PackageSource,
  ) {
    this.name = `${catalog.name}+${fallback.name}`;
    this.reader = fallback.reader;
  }

  async cacheKey(request: ImageRequest, signal?: AbortSignal): Promise<string | null> {
    const source = await this.pick(request.revision, request.system);
    return this.withKnownRevisions(() => source.cacheKey(request, signal));
  }

  async resolve(request: ImageRequest, options: ResolveOptions): Promise<ClosureGraph> {
    const source = await this.pick(request.revision, request.system);
    const graph = await this.withKnownRevisions(() => source.resolve(request, options));
    return { ...graph, reader: graph.reader ?? source.reader, source: graph.source ?? source.name };
  }

  async revisions(signal?: AbortSignal): Promise<string[]> {
    const ours = await this.catalog.revisions();
    const theirs = (await this.fallback.revisions?.(signal)) ?? [];
    return [...new Set([...theirs.filter((tag) => !ours.includes(tag)), ...ours])];
  }

  async listPackages(at: PackageSetRevision, options: ResolveOptions): Promise<PackageSummary[]> {
    const source = await this.pick(at.revision, at.system);
    if (!source.listPackages) return [];
    return this.withKnownRevisions(() => (source.listPackages as NonNullable<PackageSource['listPackages']>).call(source, at, options));
  }

  async closureSizes(at: PackageSetRevision, packages: readonly string[], options: ResolveOptions): Promise<Record<string, number | null>> {
    const source = await this.pick(at.revision, at.system);
    if (!source.closureSizes) return Object.fromEntries(packages.map((name) => [name, null]));
    return source.closureSizes(at, packages, options);
  }

  private async pick(revision: string, system: string): Promise<PackageSource> {
    return (await this.catalog.has(revision, system)) ? this.catalog : this.fallback;
  }

  /** A revision neither source knows: name the tags of both. */
  private async withKnownRevisions<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof RevisionNotFoundError)) throw error;
      const known = await this.revisions().catch(() => error.known);
      throw new RevisionNotFoundError(error.revision, [...new Set([...error.known, ...known])].sort());
    }
  }
}
