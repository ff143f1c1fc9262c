import { setImmediate as nextTurn } from 'node:timers/promises';
import { AdmissionQueue } from '../../cache/admission-queue.js';
import { LruMap } from '../../cache/lru-map.js';
import { PackageNotFoundError, SourceBusyError } from '../errors.js';
import type {
  ClosureGraph,
  DirectoryListing,
  ImageRequest,
  PackageSetRevision,
  PackageSource,
  PackageSummary,
  ResolveOptions,
  StoreEntry,
  StoreReader,
} from '../types.js';
import { DebReader, type DebFileSource } from './deb-reader.js';
import { assertDebianPackageName } from './debian-name-grammar.js';
import { debianTopLayer } from './image-files.js';
import { debianPathOf } from './package-path.js';
import { reportingDebFiles } from './deb-progress.js';
import type { DebianClosure, DebianIndexProvider, DebianIndexSnapshot, DebianPackage } from './types.js';

/**
 * Closure sizes (the web UI's package-sizes, anyone who may pull asks them, up to 50 names a
 * request) are resolutions on the event loop, a few milliseconds to tens each: one request
 * sizes at a time with a few waiting, the rest get 429, the loop turns between names, and sizes
 * are remembered per index state.
 */
const SIZING_CONCURRENCY = 1;
const SIZING_WAITING = 4;
const REMEMBERED_SIZES = 20_000;

/** Nix system → Debian architecture. */
const ARCHITECTURES: Readonly<Record<string, string>> = { 'x86_64-linux': 'amd64', 'aarch64-linux': 'arm64' };

export interface DebianPackageSourceOptions {
  readonly index: DebianIndexProvider;
  /** The archive side's resolver: Depends/Pre-Depends closure of Debian names. */
  readonly resolveClosure: (snapshot: DebianIndexSnapshot, names: readonly string[]) => DebianClosure;
  readonly files: DebFileSource;
  /** Image-name spelling → Debian name (`libstdcxx6` → `libstdc++6`); identity by default. */
  readonly debianName?: (component: string) => string;
  /** Debian name → image-name spelling, for listings; identity by default. */
  readonly ociName?: (name: string) => string;
  /** Name → layering popularity, per snapshot (`debianPopularity`: in how many one-package images of the release it appears). */
  readonly popularity?: (snapshot: DebianIndexSnapshot) => ReadonlyMap<string, number>;
}

/**
 * Debian's archive as a package source: image-name components are binary package names, the
 * closure is the archive side's resolution, each package (name, version, architecture) is one
 * closure path whose layer bytes depend only on its `.deb`, and files are laid out at their
 * real paths (ClosureGraph.rootFs). The cache key is the fingerprint of the verified indexes,
 * so a security update makes new image keys while unchanged packages keep their layers.
 */
export class DebianPackageSource implements PackageSource {
  readonly name = 'debian';
  /** Debian packages are read through each closure's `rootFs`, never as store paths. */
  readonly reader: StoreReader = NO_STORE_PATHS;
  private listing: { fingerprint: string; packages: PackageSummary[] } | undefined;
  /** Popularity over the whole archive is costly: computed once per (immutable) snapshot. */
  private readonly popularity = new WeakMap<DebianIndexSnapshot, ReadonlyMap<string, number>>();
  private readonly sizing = new AdmissionQueue(SIZING_CONCURRENCY, SIZING_WAITING);
  private readonly sizes = new LruMap<string, number | null>(REMEMBERED_SIZES);

  constructor(private readonly options: DebianPackageSourceOptions) {}

  async cacheKey(request: ImageRequest, signal?: AbortSignal): Promise<string | null> {
    const snapshot = await this.snapshot(request, signal);
    return `debian:${snapshot.fingerprint}`;
  }

  async resolve(request: ImageRequest, options: ResolveOptions): Promise<ClosureGraph> {
    // Image names are checked on the way in; a caller that skips that still gets the error.
    for (const component of request.packages) assertDebianPackageName(component);
    const snapshot = await this.snapshot(request, options.signal);
    const names = request.packages.map((component) => this.debianName(component));
    const closure = this.options.resolveClosure(snapshot, names);
    const report = options.onProgress;
    if (report) {
      const bytes = closure.packages.reduce((total, pkg) => total + pkg.size, 0);
      report({ kind: 'log', text: `resolved ${closure.packages.length} Debian packages (${(bytes / (1024 * 1024)).toFixed(1)} MiB of .debs)` });
    }
    return this.graphOf(snapshot, closure, request, report ? reportingDebFiles(this.options.files, report) : this.options.files);
  }

  revisions(): Promise<string[]> {
    return Promise.resolve([...this.options.index.revisions()]);
  }

  async listPackages(at: PackageSetRevision, options: ResolveOptions): Promise<PackageSummary[]> {
    const snapshot = await this.options.index.snapshot(at.revision, architectureOf(at.system), options.signal);
    if (this.listing?.fingerprint !== snapshot.fingerprint) {
      const packages: PackageSummary[] = [];
      for (const [name, candidates] of snapshot.packages) {
        const best = candidates[0];
        if (best) packages.push({ name: this.ociName(name), version: best.version, description: best.description });
      }
      packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.listing = { fingerprint: snapshot.fingerprint, packages };
    }
    return this.listing.packages;
  }

  /** @throws SourceBusyError when as many sizings run and wait as are let in (SIZING_CONCURRENCY, SIZING_WAITING). */
  async closureSizes(at: PackageSetRevision, packages: readonly string[], options: ResolveOptions): Promise<Record<string, number | null>> {
    const snapshot = await this.options.index.snapshot(at.revision, architectureOf(at.system), options.signal);
    const sizes: Record<string, number | null> = {};
    const key = (component: string): string => `${snapshot.fingerprint}\u0000${component}`;
    const unknown = packages.filter((component) => {
      const known = this.sizes.get(key(component));
      if (known !== undefined) sizes[component] = known;
      return known === undefined;
    });
    if (unknown.length === 0) return sizes;
    await this.sizing.run(
      async () => {
        for (const component of unknown) {
          options.signal.throwIfAborted();
          const size = this.closureSize(snapshot, component);
          this.sizes.set(key(component), size);
          sizes[component] = size;
          await nextTurn();
        }
      },
      () => new SourceBusyError('closure size requests', 5),
      options.signal,
    );
    return sizes;
  }

  private closureSize(snapshot: DebianIndexSnapshot, component: string): number | null {
    try {
      const closure = this.options.resolveClosure(snapshot, [this.debianName(component)]);
      return closure.packages.reduce((total, pkg) => total + pkg.installedSize, 0);
    } catch (error) {
      if (!(error instanceof PackageNotFoundError)) throw error;
      return null;
    }
  }

  private snapshot(request: ImageRequest, signal?: AbortSignal): Promise<DebianIndexSnapshot> {
    return this.options.index.snapshot(request.revision, architectureOf(request.system), signal);
  }

  private graphOf(snapshot: DebianIndexSnapshot, closure: DebianClosure, request: ImageRequest, files: DebFileSource): ClosureGraph {
    const byName = new Map(closure.packages.map((pkg) => [pkg.name, pkg]));
    const pathOfName = (name: string): string | undefined => {
      const pkg = byName.get(name);
      return pkg ? debianPathOf(pkg) : undefined;
    };
    const paths = closure.packages.map((pkg) => ({
      path: debianPathOf(pkg),
      narSize: pkg.installedSize,
      // The `.deb`'s hash: what the layer bytes are made from, so it keys the layer.
      narHash: `sha256:${pkg.sha256}`,
      references: (closure.dependsOn.get(pkg.name) ?? []).flatMap((name) => pathOfName(name) ?? []),
    }));
    const roots = closure.roots.flatMap((name) => pathOfName(name) ?? []);
    const packageRoots: Record<string, string[]> = {};
    request.packages.forEach((component, i) => {
      const root = closure.roots[i];
      const path = root === undefined ? undefined : pathOfName(root);
      if (path) packageRoots[component] = [path];
    });
    const reader = new DebReader(files, new Map(closure.packages.map((pkg): [string, DebianPackage] => [debianPathOf(pkg), pkg])));
    const counts = this.popularityOf(snapshot);
    const popularity = counts ? new Map(closure.packages.map((pkg) => [debianPathOf(pkg), counts.get(pkg.name) ?? 0])) : undefined;
    return {
      paths,
      roots,
      packageRoots,
      ...(popularity ? { popularity } : {}),
      rootFs: {
        reader,
        topLayer: ({ shell, signal }) =>
          debianTopLayer({
            packages: closure.packages,
            roots: closure.roots,
            reader,
            control: (pkg, signal) => reader.control(debianPathOf(pkg), signal),
            architecture: snapshot.architecture, shell, signal }),
      },
    };
  }

  private popularityOf(snapshot: DebianIndexSnapshot): ReadonlyMap<string, number> | undefined {
    if (!this.options.popularity) return undefined;
    let counts = this.popularity.get(snapshot);
    if (!counts) {
      counts = this.options.popularity(snapshot);
      this.popularity.set(snapshot, counts);
    }
    return counts;
  }

  private debianName(component: string): string {
    return this.options.debianName ? this.options.debianName(component) : component;
  }

  private ociName(name: string): string {
    return this.options.ociName ? this.options.ociName(name) : name;
  }
}

/** @throws PackageNotFoundError-free Error for a system Debian has no architecture for. */
function architectureOf(system: string): string {
  const architecture = ARCHITECTURES[system];
  if (architecture === undefined) throw new Error(`no Debian architecture is known for system ${system}`);
  return architecture;
}

const NO_STORE_PATHS: StoreReader = {
  // eslint-disable-next-line require-yield
  async *entries(storePath: string): AsyncGenerator<StoreEntry> {
    throw new Error(`the Debian source has no store paths (asked for ${storePath})`);
  },
  list(): Promise<DirectoryListing | null> {
    return Promise.resolve(null);
  },
};
