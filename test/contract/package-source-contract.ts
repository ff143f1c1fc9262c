import { describe, expect, it } from 'vitest';
import { InvalidPackageNameError, PackageNotFoundError, RevisionNotFoundError } from '../../src/sources/errors.js';
import type { ClosureGraph, ImageRequest, PackageSource } from '../../src/sources/types.js';

/** What a PackageSource contract run needs: the source and a request it can resolve. */
export interface PackageSourceFixture {
  readonly source: PackageSource;
  /** Two or more packages of the source's package set, sorted, at a revision it knows. */
  readonly request: ImageRequest;
  /** A revision (tag) the source does not know for `request.system`. */
  readonly unknownRevision: string;
}

const RESOLVE_MS = 600_000;
const options = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(RESOLVE_MS) });

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** Paths sorted by store path, for comparing two resolutions. */
const normalised = (graph: ClosureGraph): object => ({
  roots: graph.roots,
  packageRoots: graph.packageRoots,
  paths: [...graph.paths].sort((a, b) => (a.path < b.path ? -1 : 1)).map((info) => ({ ...info, references: [...info.references].sort() })),
});

/**
 * The first entry's path of `root`, read as the builder reads it: root-filesystem closures
 * through `rootFs.reader`, store paths through `closure.reader ?? source.reader`; null when
 * there is none.
 */
async function firstEntryPath(graph: ClosureGraph, source: PackageSource, root: string): Promise<string | null> {
  const entries = (graph.rootFs ? graph.rootFs.reader.entries(root) : (graph.reader ?? source.reader).entries(root))[Symbol.asyncIterator]();
  const head = await entries.next();
  await entries.return?.();
  return head.done ? null : head.value.path;
}

/**
 * The contract every PackageSource keeps (src/sources/types.ts), run on one implementation.
 * `factory` is called once per suite (sources are expensive: real Nix, real caches); a new
 * source joins with one `describePackageSourceContract('debian', ...)` line.
 */
export function describePackageSourceContract(name: string, factory: () => Promise<PackageSourceFixture>): void {
  describe(`PackageSource contract: ${name}`, () => {
    let fixture: Promise<PackageSourceFixture> | undefined;
    const get = (): Promise<PackageSourceFixture> => (fixture ??= factory());
    let first: Promise<ClosureGraph> | undefined;
    const resolved = async (): Promise<ClosureGraph> => {
      const { source, request } = await get();
      return (first ??= source.resolve(request, options()));
    };

    it('resolves a closed closure: every root and every reference is one of its paths', async () => {
      const { request } = await get();
      const graph = await resolved();
      const paths = graph.paths.map((info) => info.path);
      expect(new Set(paths).size).toBe(paths.length);
      expect(Object.keys(graph.packageRoots).sort()).toEqual([...request.packages]);
      const expectedRoots = [...new Set(request.packages.flatMap((pkg) => graph.packageRoots[pkg] ?? []))];
      expect(graph.roots).toEqual(expectedRoots);
      for (const pkg of request.packages) expect(graph.packageRoots[pkg]?.length, pkg).toBeGreaterThan(0);
      for (const root of graph.roots) expect(paths).toContain(root);
      for (const info of graph.paths) {
        expect(info.narSize, info.path).toBeGreaterThan(0);
        for (const reference of info.references) expect(paths, `${info.path} → ${reference}`).toContain(reference);
      }
    }, RESOLVE_MS);

    it('gives the same closure when asked again', async () => {
      const { source, request } = await get();
      const again = await source.resolve(request, options());
      expect(normalised(again)).toEqual(normalised(await resolved()));
    }, RESOLVE_MS);

    it('reads every root with the reader its layers are written from', async () => {
      const { source } = await get();
      const graph = await resolved();
      for (const root of graph.roots) {
        const head = await firstEntryPath(graph, source, root);
        expect(head, root).not.toBeNull();
        // Store layout: the root itself comes first, absolute. Root-filesystem packages: their
        // files at real paths relative to `/`.
        if (graph.rootFs) expect(head).toMatch(/^[^/]/);
        else expect(head).toBe(root);
      }
    }, RESOLVE_MS);

    it('gives a stable cache key (or null, a moving target) for the request', async () => {
      const { source, request } = await get();
      const key = await source.cacheKey(request);
      expect(key === null || (typeof key === 'string' && key.length > 0)).toBe(true);
      expect(await source.cacheKey(request)).toBe(key);
    }, RESOLVE_MS);

    it('names every unknown package, and only those', async () => {
      const { source, request } = await get();
      const known = request.packages[0] as string;
      const packages = ['no-such-package-a', known, 'no-such-package-b'].sort();
      const error = await caught(source.resolve({ ...request, packages }, options()));
      expect(error).toBeInstanceOf(PackageNotFoundError);
      expect([...(error as PackageNotFoundError).packages].sort()).toEqual(['no-such-package-a', 'no-such-package-b']);
    }, RESOLVE_MS);

    it('refuses an invalid package name', async () => {
      const { source, request } = await get();
      const error = await caught(source.resolve({ ...request, packages: ['not a name!'] }, options()));
      expect(error).toBeInstanceOf(InvalidPackageNameError);
    });

    it('refuses a revision it does not know, in resolve and cacheKey alike', async () => {
      const { source, request, unknownRevision } = await get();
      const unknown = { ...request, revision: unknownRevision };
      expect(await caught(source.resolve(unknown, options()))).toBeInstanceOf(RevisionNotFoundError);
      expect(await caught(source.cacheKey(unknown))).toBeInstanceOf(RevisionNotFoundError);
    });

    it('lists the request’s revision among its revisions, and its packages among its packages', async () => {
      const { source, request } = await get();
      // Both members are optional: without `revisions` only `latest` is offered, without
      // `listPackages` there is no search.
      expect((await source.revisions?.()) ?? ['latest']).toContain(request.revision);
      const listed = (await source.listPackages?.({ revision: request.revision, system: request.system }, options())) ?? null;
      if (listed) for (const pkg of request.packages) expect(listed.map((summary) => summary.name)).toContain(pkg);
    }, RESOLVE_MS);
  });
}
