import { resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import type { LockManager, MetadataStore } from './storage/types.js';
import { AdaptiveStowageLayerer, closurePopularity, popularityFromNames, StowageLayerer, type Layerer, type LayeringGraph, type Popularity } from './layering/index.js';
import { loadPopularityTable, popularityFileFor } from './builder/popularity-table.js';
import { loadCoOccurrenceFile } from './builder/co-occurrence-file.js';
import { ClosureWindow } from './builder/closure-window.js';
import { FixedCoOccurrence, FrozenCoOccurrence, type CoOccurrenceData } from './builder/frozen-co-occurrence.js';

/**
 * The layerer `image.adaptiveLayers` asks for: Stowage at the full budget, or Stowage's
 * adaptive budget (the fewest layers within 1% of the full budget's estimated cost). The two
 * have different names, so their images are cached under different keys.
 */
export function createLayerer(config: Pick<Config, 'image'>): Layerer {
  return config.image.adaptiveLayers ? new AdaptiveStowageLayerer() : new StowageLayerer();
}

/** What the builder layers with besides the layerer: popularity counts and co-occurrence data. */
export interface LayeringData {
  /** For the builder's deps. */
  readonly deps: { readonly popularity: (graph: LayeringGraph) => Popularity; readonly coOccurrence?: CoOccurrenceData };
  /** For the builder's options: the popularity file's fingerprint, part of image keys (absent without one). */
  readonly options: { readonly popularityKey?: string };
}

export interface LayeringDataDeps {
  readonly metadata: MetadataStore;
  readonly locks: LockManager;
  readonly lockTtlMs: number;
  readonly logger: Logger;
  /** Epoch ms (injected in tests). */
  readonly now?: () => number;
}

/**
 * Package-set popularity lets the layering group paths that travel together (without it, the
 * largest paths get layers of their own and the rest share the top ones); co-occurrence data
 * (`image.coOccurrence`) also groups unrelated paths that images ship together. With the
 * recorded window, the persisted table is read (or computed, if stale) before the first build.
 * @throws Error naming the file when a popularity or co-occurrence file is invalid.
 */
export async function createLayeringData(config: Pick<Config, 'image' | 'source'>, deps: LayeringDataDeps): Promise<LayeringData> {
  const popularityFile = await popularityFileFor(config.image.popularityFile, config.source.packageSet);
  const table = popularityFile ? await loadPopularityTable(popularityFile) : null;
  if (popularityFile) deps.logger.info({ popularityFile, names: table?.counts.size }, 'layering with package-set popularity');
  const popularity = table ? (graph: LayeringGraph) => popularityFromNames(table.counts, graph) : closurePopularity;
  const coOccurrence = await createCoOccurrence(config.image.coOccurrence, deps);
  return { deps: { popularity, ...(coOccurrence ? { coOccurrence } : {}) }, options: table ? { popularityKey: table.fingerprint } : {} };
}

async function createCoOccurrence(options: Config['image']['coOccurrence'], deps: LayeringDataDeps): Promise<CoOccurrenceData | null> {
  if (!options.enabled) return null;
  if (options.file !== '') {
    const table = await loadCoOccurrenceFile(resolve(options.file));
    deps.logger.info({ file: options.file, version: table.version, images: table.table.total }, 'layering with a co-occurrence table file');
    return new FixedCoOccurrence(table);
  }
  const now = deps.now ?? Date.now;
  const window = new ClosureWindow(deps.metadata, { limit: options.window, now });
  const frozen = new FrozenCoOccurrence(
    { metadata: deps.metadata, locks: deps.locks, window, logger: deps.logger },
    { periodMs: options.periodMs, lockTtlMs: deps.lockTtlMs, now },
  );
  // Startup must not fail on an unreachable store (Redis may come later): builds start without a table.
  await frozen.sync().catch((error: unknown) => deps.logger.warn({ err: error }, 'co-occurrence table not read at startup; checking again later'));
  return frozen;
}
