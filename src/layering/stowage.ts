/**
 * Stowage's layering. A layer is shared between two images only if both get exactly the same
 * set of store paths, so every grouping decision depends on a path and its own closure, never
 * on which image the path is in:
 *
 * 1. Units. Each small path joins the nearest path that covers it in the population (see
 *    `cover-units.ts`): `libfoo-data` rides with `libfoo`. A unit is fixed by its top path, so
 *    every image holding that path gets the same unit.
 *    With co-occurrence data (`CoOccurrencePopularity`: which paths past images shipped
 *    together), small units whose packages the same past images held join one unit too
 *    (`co-occurrence-units.ts`): a base shell's `grep`, `sed` and `less` become one.
 * 2. One layer per unit, largest first. Bytes are what nodes download and most of them sit in a
 *    few large paths: a one-unit layer is shared by every image containing the unit and changes
 *    only when the unit itself changes (an update anywhere in its closure). With co-occurrence
 *    data, bytes are weighted by how many past images held the unit (see `ranking`).
 * 3. Over budget, the smallest units share one last (top) layer. It holds few bytes, and it is
 *    the only layer that depends on the rest of the image.
 *
 *     budget 4, units by size:   [A]  [B c]  [D]  [e f g h i]
 *                                bottom ......... top (shared)
 *
 * What counts as "small" grows as the budget shrinks (a tight budget needs more joining to
 * fit), as (reference budget / budget)², and below budget 40 the cover ratio loosens (see
 * `coverRatio`). `layout` also returns the cost Stowage expects, which the adaptive budget
 * (`adaptive.ts`) compares across layer counts. Without population data (an empty map, or
 * `closurePopularity`) nothing is joined: joining on closure-local counts would group paths by
 * what else is in the image, which is what makes layers unshareable.
 */
import { compareCodeUnits, indexClosure, reachability, type ClosureIndex } from './closure-index.js';
import { similarityLabels } from './co-occurrence-labels.js';
import { joinCoOccurring } from './co-occurrence-units.js';
import { CoOccurrencePopularity, type CoOccurrenceEntry } from './co-occurrence.js';
import { coverUnits } from './cover-units.js';
import { dataPaths } from './data-paths.js';
import { populationCounts } from './population-counts.js';
import type { Layer, Layerer, LayeringGraph, Popularity } from './types.js';
import type { StowageOptions } from './stowage-options.js';

export type { StowageOptions } from './stowage-options.js';

/**
 * Version of what Stowage does with a co-occurrence table, part of the image key with the
 * table's own version (`builder/image-builder.ts`): images layered under older rules rebuild,
 * images without a table keep their keys. 2: cover joins checked against the table's images.
 * 3: the ranking's share of rare images 1/16 from budget 40 up (1/8 before). 4: classes by
 * labels over the table at the tight budget and below. 5: above the tight budget, paths whose
 * references are all reference-free are data too. 6: at the tight budget and below, paths the
 * table's images rarely held join coverers at a looser ratio.
 */
export const CO_OCCURRENCE_RULES_VERSION = 6;

/**
 * A layering and Stowage's estimate of what it costs. `wasteBytes` are the bytes a node is
 * expected to download again although it holds them: the whole shared top layer (it differs
 * between images, so every distinct image brings a new one) and, in the other layers, the paths
 * joined to a coverer (out of place in the images that hold one without the other). The bench
 * shows these two are where the bytes over the floor come from.
 */
export interface StowageLayout {
  readonly layers: Layer[];
  /** Summed NAR sizes of the closure. */
  readonly closureBytes: number;
  readonly wasteBytes: number;
}

interface Unit {
  /** Indices of the unit's paths. */
  readonly members: readonly number[];
  /** Their summed NAR sizes. */
  readonly bytes: number;
  /** Claim to an own layer, highest first (see `ranking`). */
  readonly rank: number;
  /** Earliest position of a member in dependency order: orders layers bottom-first. */
  readonly depth: number;
}

export class StowageLayerer implements Layerer {
  readonly name = 'stowage';
  private readonly referenceBudget: number;
  private readonly joinBytes: number;
  private readonly minCoverRatio: number;
  private readonly tableRatio: number;
  private readonly tightBudget: number;
  private readonly tightRatio: number;
  private readonly minImages: number;
  private readonly rareShare: number;
  private readonly tightRareShare: number;
  private readonly dataApart: { readonly minBytes: number; readonly maxCovererReach: number };
  private readonly dataOneLevel: boolean;
  private readonly tableCoverRatio: number;
  private readonly classJaccard: number;
  private readonly labelMinImages: number;
  private readonly rareCover: { readonly share: number; readonly minRatio: number };

  constructor(options: StowageOptions = {}) {
    this.referenceBudget = options.referenceBudget ?? 94;
    this.joinBytes = options.joinBytesAtReferenceBudget ?? 1_000_000;
    this.minCoverRatio = options.minCoverRatio ?? 1 / 1.2;
    this.tableRatio = options.minCoverRatioWithTable ?? 0.9;
    this.tightBudget = options.tightBudget ?? 20;
    this.tightRatio = options.minCoverRatioAtTightBudget ?? 0.75;
    this.minImages = options.minImages ?? 10;
    this.rareShare = options.rareImagesShare ?? 1 / 16;
    this.tightRareShare = options.rareImagesShareAtTightBudget ?? 1 / 8;
    this.tableCoverRatio = options.tableCoverRatio ?? 0.75;
    this.classJaccard = options.classJaccardAtTightBudget ?? 0.95;
    this.labelMinImages = Math.max(this.minImages, options.labelMinImages ?? 100);
    this.dataApart = { minBytes: options.dataApartBytes ?? 100_000, maxCovererReach: options.dataApartReach ?? 3 };
    this.dataOneLevel = options.dataOneLevelAboveTightBudget ?? true;
    this.rareCover = { share: options.rareCoverShareAtTightBudget ?? 1 / 50, minRatio: options.rareCoverRatioAtTightBudget ?? 0.3 };
  }

  /**
   * The cover ratio at `limit`. At a tight budget most of an image's small paths land in the
   * shared top layer, which every node downloads again for every image; joining them a little more
   * eagerly to their coverers costs less than that. Measured over seeds 1 to 5: 0.75 at budget 20
   * pulls about 0.9% fewer bytes than 1/1.2, while at 50 the looser ratio costs 0.3%.
   */
  private coverRatio(limit: number, withTable: boolean): number {
    return this.byBudget(limit, this.tightRatio, withTable ? this.tableRatio : this.minCoverRatio);
  }

  /** `tight` at the tight budget and below, `loose` from twice it up, following log(budget) in between. */
  private byBudget(limit: number, tight: number, loose: number): number {
    if (limit >= 2 * this.tightBudget) return loose;
    if (limit <= this.tightBudget) return tight;
    const t = Math.log(limit / this.tightBudget) / Math.log(2);
    return tight + t * (loose - tight);
  }

  group(graph: LayeringGraph, popularity: Popularity, budget: number): Layer[] {
    return this.layout(graph, popularity, budget).layers;
  }

  /** The layers for `budget`, with what Stowage expects them to cost (see `StowageLayout`). */
  layout(graph: LayeringGraph, popularity: Popularity, budget: number): StowageLayout {
    return this.planner(graph, popularity, budget)(budget);
  }

  /**
   * Layouts of one closure at any number of layers up to `budget`, sharing the work: the units
   * are those of `budget` (so every count of layers groups the same paths together), only the
   * cut between own layers and the top layer moves. `planner(g, p, b)(b)` equals `layout(g, p, b)`.
   */
  planner(graph: LayeringGraph, popularity: Popularity, budget: number): (layers: number) => StowageLayout {
    const index = indexClosure(graph);
    const units = index.paths.length === 0 ? [] : this.units(index, popularity, Math.max(1, Math.floor(budget)));
    units.sort((a, b) => b.rank - a.rank || b.bytes - a.bytes || compareCodeUnits(firstPath(index, a), firstPath(index, b)));
    const closureBytes = units.reduce((sum, u) => sum + u.bytes, 0);
    // Joined bytes of a unit: all but its largest path, the ones out of place when a join errs.
    const joined = units.map((u) => u.bytes - Math.max(...u.members.map((i) => index.sizes[i]!)));
    return (layerCount: number): StowageLayout => {
      const limit = Math.max(1, Math.floor(layerCount));
      const ownCount = units.length <= limit ? units.length : limit - 1;
      const own = units.slice(0, ownCount);
      const shared = units.slice(ownCount).flatMap((u) => u.members);
      const layers = [...own].sort((a, b) => a.depth - b.depth).map((u) => toLayer(index, u.members));
      let wasteBytes = joined.slice(0, ownCount).reduce((sum, b) => sum + b, 0);
      if (shared.length > 0) {
        layers.push(toLayer(index, shared));
        wasteBytes += units.slice(ownCount).reduce((sum, u) => sum + u.bytes, 0);
      }
      return { layers, closureBytes, wasteBytes };
    };
  }

  private units(index: ClosureIndex, popularity: Popularity, limit: number): Unit[] {
    const reach = reachability(index);
    const counts = populationCounts(index, reach, popularity);
    const small = this.joinBytes * (this.referenceBudget / limit) ** 2;
    const withTable = popularity instanceof CoOccurrencePopularity;
    // Data apart from the binaries it ships with, with a table only: an update rebuilds a binary
    // with its libraries far more often than the data, which a join then sends again with it
    // (docs/layering.md, "Issue 16, third round"). Without a table it is no better.
    const entries = popularity instanceof CoOccurrencePopularity ? index.paths.map((p) => popularity.lookup(p)) : null;
    const data = entries ? dataPaths(index, this.dataOneLevel && limit > this.tightBudget) : null;
    const tableImages = entries ? entries.map((e) => e?.images ?? 0) : null;
    const tableCover =
      tableImages && this.tableCoverRatio > 0 ? { tableCover: { images: tableImages, minRatio: this.tableCoverRatio, minImages: this.minImages } } : {};
    const rareCover =
      tableImages && popularity instanceof CoOccurrencePopularity && limit <= this.tightBudget && this.rareCover.share > 0
        ? { rareCover: { images: tableImages, maxImages: this.rareCover.share * popularity.table.total, minRatio: this.rareCover.minRatio } }
        : {};
    const covered = counts
      ? coverUnits(index, reach, counts, {
          maxJoinedBytes: small,
          minCoverRatio: this.coverRatio(limit, withTable),
          ...(data ? { dataApart: { ...this.dataApart, data } } : {}),
          ...tableCover,
          ...rareCover,
        })
      : index.paths.map((_, i) => i);
    const labelled = popularity instanceof CoOccurrencePopularity && limit <= this.tightBudget && this.classJaccard > 0;
    const labels = labelled ? { labels: similarityLabels(popularity, this.labelMinImages, this.classJaccard) } : {};
    const unitOf = entries
      ? joinCoOccurring(index, covered, entries, { maxUnitBytes: small, minImages: this.minImages, ...(data ? { dataApart: data } : {}), ...labels })
      : covered;
    const position = new Array<number>(index.paths.length);
    index.bottomUp.forEach((i, k) => {
      position[i] = k;
    });
    const byUnit = new Map<number, number[]>();
    unitOf.forEach((unit, i) => {
      const list = byUnit.get(unit);
      if (list) list.push(i);
      else byUnit.set(unit, [i]);
    });
    const rank = this.ranking(entries, popularity, limit);
    return [...byUnit.values()].map((members) => {
      const bytes = members.reduce((sum, i) => sum + index.sizes[i]!, 0);
      return { members, bytes, rank: rank(members, bytes), depth: Math.min(...members.map((i) => position[i]!)) };
    });
  }

  /**
   * What an own layer is worth to a unit. A unit in the top layer arrives again at every node
   * that already holds it, so the layers go to the units a node most likely holds: bytes alone
   * without co-occurrence data; with it, bytes weighted by how many past images held the unit. A
   * unit few images held (image-specific paths) costs little in the top layer, since few nodes
   * hold it already. Measured on seeds 1 and 2: about 1% fewer bytes at 20, 0.2% at 94. The share
   * is smaller from budget 40 up (1/16 against 1/8): fewer bytes at 50 and 94 on 27 of the 30 traces
   * of three families measured (the other three 0.004 points more at most), while at 20 it helps two
   * families and hurts one.
   */
  private ranking(
    entries: readonly (CoOccurrenceEntry | undefined)[] | null,
    popularity: Popularity,
    limit: number,
  ): (members: readonly number[], bytes: number) => number {
    if (!entries || !(popularity instanceof CoOccurrencePopularity)) return (_, bytes) => bytes;
    const k = this.byBudget(limit, this.tightRareShare, this.rareShare) * popularity.table.total;
    return (members, bytes) => {
      let held = 0;
      for (const i of members) held = Math.max(held, entries[i]?.images ?? 0);
      return (bytes * (held + 1)) / (held + 1 + k);
    };
  }
}

function firstPath(index: ClosureIndex, unit: Unit): string {
  return index.paths[unit.members[0]!]!;
}

function toLayer(index: ClosureIndex, members: readonly number[]): Layer {
  return { paths: members.map((i) => index.paths[i]!).sort(compareCodeUnits) };
}
