/**
 * Results over several traces (one per seed): the spread of each ratio across them, so a change
 * is judged on every trace and not tuned to one.
 */
import type { Results } from './report.js';

/** `byTrace[label]` = results of one trace. */
export type TraceResults = Record<string, Results>;

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Per algorithm and budget: pulled / floor and update amplification over the traces. */
export type SpreadResults = Record<string, Record<string, { pulledOverFloor: Spread; updateAmplification: Spread }>>;

export function spreadOf(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export function spreads(byTrace: TraceResults): SpreadResults {
  const out: SpreadResults = {};
  const traces = Object.values(byTrace);
  for (const [name, byBudget] of Object.entries(traces[0] ?? {})) {
    out[name] = {};
    for (const budget of Object.keys(byBudget)) {
      const all = traces.map((t) => t[name]![budget]!);
      out[name]![budget] = {
        pulledOverFloor: spreadOf(all.map((m) => m.bytesPulled / m.floorBytes)),
        updateAmplification: spreadOf(all.map((m) => m.updateAmplification)),
      };
    }
  }
  return out;
}

/** Markdown: one row per budget and algorithm, median and range over the traces, then each trace. */
export function formatSpreadTable(byTrace: TraceResults, budgets: readonly number[]): string {
  const labels = Object.keys(byTrace);
  const spread = spreads(byTrace);
  const header = ['budget', 'algorithm', 'pulled / floor: median', 'min – max', 'updateAmplification: median', 'min – max', ...labels.map((l) => `${l}: pulled, update`)];
  const rows: string[][] = [];
  for (const budget of budgets) {
    for (const [name, byBudget] of Object.entries(spread)) {
      const s = byBudget[budget];
      if (!s) continue;
      rows.push([
        String(budget), name, x(s.pulledOverFloor.median), `${x(s.pulledOverFloor.min)} – ${x(s.pulledOverFloor.max)}`,
        x(s.updateAmplification.median), `${x(s.updateAmplification.min)} – ${x(s.updateAmplification.max)}`,
        ...labels.map((l) => {
          const m = byTrace[l]![name]![budget]!;
          return `${x(m.bytesPulled / m.floorBytes)}, ${x(m.updateAmplification)}`;
        }),
      ]);
    }
  }
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function x(value: number): string {
  return `${value.toFixed(3)}x`;
}
