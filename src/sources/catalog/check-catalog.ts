import type { BinaryCache } from '../binary-cache/binary-cache.js';
import { closureFromCache } from '../binary-cache/closure.js';
import type { Catalog } from './catalog.js';

export interface CatalogProblem {
  readonly revision: string;
  readonly system: string;
  readonly package: string;
  readonly message: string;
}

export interface CatalogCheckResult {
  readonly packages: number;
  readonly storePaths: number;
  readonly problems: readonly CatalogProblem[];
}

/**
 * Check that every package of the catalog (or of one revision) can be served from `cache`:
 * every store path in its closure has a narinfo, signed by a trusted key, well formed. NARs
 * are not downloaded.
 */
export async function checkCatalog(
  catalog: Catalog,
  cache: BinaryCache,
  options: { readonly revision?: string; readonly signal: AbortSignal; readonly onPackage?: (done: number, total: number) => void },
): Promise<CatalogCheckResult> {
  const problems: CatalogProblem[] = [];
  const seen = new Set<string>();
  const work: Array<{ revision: string; system: string; name: string }> = [];
  for (const revision of catalog.tags()) {
    if (catalog.revisionOf(revision) !== revision || (options.revision !== undefined && revision !== catalog.revisionOf(options.revision))) continue;
    for (const system of catalog.systems(revision)) {
      for (const { name } of catalog.packages(revision, system)) work.push({ revision, system, name });
    }
  }
  let done = 0;
  for (const item of work) {
    const match = catalog.lookup(item.revision, item.system, item.name);
    try {
      const closure = await closureFromCache(cache, match?.outputs ?? [], options.signal);
      for (const info of closure) seen.add(info.path);
    } catch (error) {
      options.signal.throwIfAborted();
      problems.push({ ...item, package: item.name, message: (error as Error).message });
    }
    options.onPackage?.(++done, work.length);
  }
  return { packages: work.length, storePaths: seen.size, problems };
}
