import type { ClosureGraph, ImageRequest, PackageSetRevision, PackageSource, PackageSummary, ResolveOptions, StoreReader } from './types.js';

/**
 * Two package universes behind one registry: requests whose image name started with the
 * prefix (`ImageRequest.universe`, e.g. `nix`) go to `prefixed`, every other request to
 * `fallback`. A name therefore means exactly one image. Closures carry the reader of the
 * source that resolved them, and its name; `reader` is the fallback's.
 */
export class PrefixRoutingSource implements PackageSource {
  readonly name: string;
  readonly reader: StoreReader;

  constructor(
    private readonly fallback: PackageSource,
    private readonly prefix: string,
    private readonly prefixed: PackageSource,
  ) {
    this.name = `${fallback.name}+${prefix}/${prefixed.name}`;
    this.reader = fallback.reader;
  }

  cacheKey(request: ImageRequest, signal?: AbortSignal): Promise<string | null> {
    return this.pick(request).cacheKey(request, signal);
  }

  async resolve(request: ImageRequest, options: ResolveOptions): Promise<ClosureGraph> {
    const source = this.pick(request);
    const graph = await source.resolve(request, options);
    return { ...graph, reader: graph.reader ?? source.reader, source: graph.source ?? source.name };
  }

  /** The fallback's tags, then the prefixed universe's others. */
  async revisions(signal?: AbortSignal): Promise<string[]> {
    const ours = (await this.fallback.revisions?.(signal)) ?? ['latest'];
    const theirs = (await this.prefixed.revisions?.(signal)) ?? ['latest'];
    return [...new Set([...ours, ...theirs])];
  }

  /** The fallback's packages, then the prefixed universe's spelled `prefix/name`. */
  async listPackages(at: PackageSetRevision, options: ResolveOptions): Promise<PackageSummary[]> {
    const ours = (await this.fallback.listPackages?.(at, options)) ?? [];
    const theirs = await this.prefixed.listPackages?.(at, options).catch(() => [] as PackageSummary[]);
    return [...ours, ...(theirs ?? []).map((summary) => ({ ...summary, name: `${this.prefix}/${summary.name}` }))];
  }

  async closureSizes(at: PackageSetRevision, packages: readonly string[], options: ResolveOptions): Promise<Record<string, number | null>> {
    const mark = `${this.prefix}/`;
    const ours = packages.filter((name) => !name.startsWith(mark));
    const theirs = packages.filter((name) => name.startsWith(mark)).map((name) => name.slice(mark.length));
    const sizes: Record<string, number | null> = {};
    const fromOurs = ours.length > 0 && this.fallback.closureSizes ? await this.fallback.closureSizes(at, ours, options) : {};
    const fromTheirs = theirs.length > 0 && this.prefixed.closureSizes ? await this.prefixed.closureSizes(at, theirs, options) : {};
    for (const name of ours) sizes[name] = fromOurs[name] ?? null;
    for (const name of theirs) sizes[`${mark}${name}`] = fromTheirs[name] ?? null;
    return sizes;
  }

  private pick(request: ImageRequest): PackageSource {
    return request.universe === this.prefix ? this.prefixed : this.fallback;
  }
}
