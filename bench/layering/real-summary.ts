/**
 * The real-registry bench over several seeds: per run, the totals of its comparison as ratios to
 * the per-package floor, and per (trace shape, budget, mode) the spread of each ratio over the
 * seeds (median, min–max). Every ratio is against the floor of the same run.
 */
import type { RunResult } from './real-run.js';
import { spreadOf, type Spread } from './spread.js';

/** One run's figures, totals over its nodes. */
export interface RunFigures {
  /** `36 pulls, 4 nodes`: runs with equal shapes and modes are summarised together. */
  readonly shape: string;
  readonly seed: number;
  readonly budget: number;
  readonly coOccurrence: boolean;
  readonly images: number;
  readonly groupsMatched: number;
  readonly layersPerImage: number;
  readonly realMb: number;
  readonly floorMb: number;
  /** Real gzip bytes received / gzip floor. */
  readonly real: number;
  /** The simulation of the registry's closures, registry layerer, gzip and installed sizes. */
  readonly sim: number;
  readonly simInstalled: number;
  readonly nixery: number;
  /** The usual graph simulation of the same trace (Nix identities): stowage, or stowage-cooc in the co-occurrence mode. */
  readonly graph: number;
  readonly seconds: number;
}

export function figuresOf(shape: string, seed: number, run: RunResult, graph: Readonly<Record<string, number>>): RunFigures {
  const total = run.comparison.rows.find((row) => row.node === 'total');
  if (!total) throw new Error('the comparison has no total row');
  const sim = (name: string): { installed: number; gzip: number } => total.simulated[name] ?? { installed: 0, gzip: 0 };
  const graphName = run.coOccurrence ? `${run.algorithm}-cooc` : run.algorithm;
  return {
    shape,
    seed,
    budget: run.budget,
    coOccurrence: run.coOccurrence,
    images: run.comparison.images,
    groupsMatched: run.comparison.groupsMatched,
    layersPerImage: run.comparison.layersPerImage,
    realMb: total.real.gzip / 1e6,
    floorMb: total.floor.gzip / 1e6,
    real: total.real.gzip / total.floor.gzip,
    sim: sim(run.algorithm).gzip / total.floor.gzip,
    simInstalled: sim(run.algorithm).installed / total.floor.installed,
    nixery: sim('nixery').gzip / total.floor.gzip,
    graph: graph[graphName] ?? Number.NaN,
    seconds: run.seconds,
  };
}

const x = (value: number): string => (Number.isNaN(value) ? '-' : `${value.toFixed(3)}x`);
const mode = (cooc: boolean): string => (cooc ? 'with table' : 'without');

/** One line per run. */
export function formatRuns(runs: readonly RunFigures[]): string {
  const header = ['trace', 'seed', 'budget', 'co-occurrence', 'images', 'groups as simulated', 'layers / image', 'real MB (gzip)', 'floor MB (gzip)',
    'real / floor', 'sim / floor (gzip)', 'sim / floor (installed)', 'Nixery sim / floor', 'graph sim', 'pulls (s)'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i < 4 ? '---' : '---:')).join(' | ')} |`];
  for (const r of runs) {
    lines.push(`| ${[r.shape, r.seed, r.budget, mode(r.coOccurrence), r.images, `${r.groupsMatched}/${r.images}`, r.layersPerImage.toFixed(1), r.realMb.toFixed(1),
      r.floorMb.toFixed(1), x(r.real), x(r.sim), x(r.simInstalled), x(r.nixery), x(r.graph), r.seconds.toFixed(0)].join(' | ')} |`);
  }
  return lines.join('\n');
}

export interface SummaryRow {
  readonly shape: string;
  readonly budget: number;
  readonly coOccurrence: boolean;
  readonly seeds: readonly number[];
  readonly groupsMatched: number;
  readonly images: number;
  readonly real: Spread;
  readonly sim: Spread;
  readonly nixery: Spread;
  readonly graph: Spread;
  /** Per seed, real bytes with the table / without it, when both modes ran. */
  readonly tableEffect: Spread | null;
}

export function summarise(runs: readonly RunFigures[]): SummaryRow[] {
  const groups = new Map<string, RunFigures[]>();
  for (const run of runs) {
    const key = `${run.shape}\n${run.budget}\n${run.coOccurrence}`;
    const list = groups.get(key);
    if (list) list.push(run);
    else groups.set(key, [run]);
  }
  return [...groups.values()].map((list) => {
    const first = list[0]!;
    const effects = first.coOccurrence
      ? list.flatMap((run) => {
          const without = runs.find((r) => r.shape === run.shape && r.seed === run.seed && r.budget === run.budget && !r.coOccurrence);
          return without ? [run.realMb / without.realMb] : [];
        })
      : [];
    return {
      shape: first.shape,
      budget: first.budget,
      coOccurrence: first.coOccurrence,
      seeds: list.map((r) => r.seed),
      groupsMatched: list.reduce((sum, r) => sum + r.groupsMatched, 0),
      images: list.reduce((sum, r) => sum + r.images, 0),
      real: spreadOf(list.map((r) => r.real)),
      sim: spreadOf(list.map((r) => r.sim)),
      nixery: spreadOf(list.map((r) => r.nixery)),
      graph: spreadOf(list.map((r) => r.graph)),
      tableEffect: effects.length > 0 ? spreadOf(effects) : null,
    };
  });
}

const spread = (s: Spread): string => `${x(s.median)} (${x(s.min)}–${x(s.max)})`;

/** Median (min–max) over the seeds. */
export function formatSummary(rows: readonly SummaryRow[]): string {
  const header = ['trace', 'budget', 'co-occurrence', 'seeds', 'groups as simulated', 'real / floor (gzip)', 'sim / floor (gzip)', 'graph sim (stowage / stowage-cooc)',
    'Nixery sim / floor', 'real with table / without'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i < 3 ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) {
    lines.push(`| ${[r.shape, r.budget, mode(r.coOccurrence), r.seeds.join(','), `${r.groupsMatched}/${r.images}`, spread(r.real), spread(r.sim), spread(r.graph),
      spread(r.nixery), r.tableEffect ? spread(r.tableEffect) : '-'].join(' | ')} |`);
  }
  return lines.join('\n');
}
