/** Formats bench results: the JSON of `--json`, the markdown table, and the docs section. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Metrics } from './simulate.js';
import type { SpreadResults } from './spread.js';

/** `results[algorithm][budget]`. */
export type Results = Record<string, Record<string, Metrics>>;

/** The seven metrics per algorithm and budget (`msMax` is left out). */
export function metricsJson(results: Results): Record<string, Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, Record<string, number>>> = {};
  for (const [name, byBudget] of Object.entries(results)) {
    out[name] = {};
    for (const [budget, m] of Object.entries(byBudget)) {
      const { bytesPulled, floorBytes, hitRateBytes, updateAmplification, registryBytes, layersPerImage, msPerImage } = m;
      out[name]![budget] = { bytesPulled, floorBytes, hitRateBytes, updateAmplification, registryBytes, layersPerImage, msPerImage };
    }
  }
  return out;
}

/** The JSON of `--json`: every trace's metrics, and their spread. */
export function jsonOf(report: { traces: Record<string, Results>; spread: SpreadResults }): string {
  const traces: Record<string, ReturnType<typeof metricsJson>> = {};
  for (const [label, results] of Object.entries(report.traces)) traces[label] = metricsJson(results);
  return JSON.stringify({ traces, spread: report.spread });
}

const GB = 1e9;

/** One markdown table, budgets grouped, each ratio next to its floor. */
export function formatTable(results: Results, budgets: readonly number[]): string {
  const header = [
    'budget', 'algorithm', 'pulled / floor', 'updateAmplification', 'hitRateBytes', 'bytesPulled GB',
    'floorBytes GB', 'registryBytes GB', 'registry / nixery', 'layersPerImage', 'msPerImage', 'ms max',
  ];
  const rows: string[][] = [];
  for (const budget of budgets) {
    const nixery = results['nixery']?.[budget]?.registryBytes;
    for (const [name, byBudget] of Object.entries(results)) {
      const m = byBudget[budget];
      if (!m) continue;
      rows.push([
        String(budget), name, ratio(m.bytesPulled / m.floorBytes), ratio(m.updateAmplification),
        m.hitRateBytes.toFixed(3), (m.bytesPulled / GB).toFixed(1), (m.floorBytes / GB).toFixed(1),
        (m.registryBytes / GB).toFixed(1), nixery ? ratio(m.registryBytes / nixery) : '-',
        m.layersPerImage.toFixed(1), m.msPerImage.toFixed(2), m.msMax.toFixed(1),
      ]);
    }
  }
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/**
 * Replaces what sits between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->` in
 * `file`. @throws Error when the markers are missing.
 */
export function writeDocSection(file: string, name: string, body: string): void {
  const text = readFileSync(file, 'utf8');
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file}: no ${begin} ... ${end} markers`);
  writeFileSync(file, `${text.slice(0, from + begin.length)}\n${body}\n${text.slice(to)}`);
}

function ratio(x: number): string {
  return `${x.toFixed(3)}x`;
}
