import { cpus, loadavg } from 'node:os';
import type { HeyResult } from './hey.js';

export interface Row {
  readonly scenario: string;
  readonly clients: number;
  readonly unit: 'MiB/s' | 'req/s';
  readonly stowage: number;
  readonly distribution: number;
  readonly ratio: number;
  readonly stowageRange: readonly [number, number];
  readonly distributionRange: readonly [number, number];
  readonly stowageP99Ms: number;
  readonly distributionP99Ms: number;
  readonly stowageP99Range: readonly [number, number];
  readonly distributionP99Range: readonly [number, number];
  /** Blob rows: CPU seconds (user + system) the serving processes spent per GiB served, median. */
  readonly stowageCpuSecondsPerGiB?: number;
  readonly distributionCpuSecondsPerGiB?: number;
}

export interface AbortRow {
  readonly clients: number;
  /** MiB/s of a fresh stowage, and of the same process after the aborted downloads, per round. */
  readonly fresh: readonly number[];
  readonly afterAborts: readonly number[];
  /** CPU seconds the stowage process spent per GiB served, per round (less load-bound than rates). */
  readonly freshCpuSecondsPerGiB: readonly number[];
  readonly afterCpuSecondsPerGiB: readonly number[];
  readonly aborted: number;
  /** Median over rounds of each round's after/fresh. */
  readonly ratio: number;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const range = (values: readonly number[]): readonly [number, number] => [Math.min(...values), Math.max(...values)];

export function row(scenario: string, clients: number, unit: Row['unit'], rate: (r: HeyResult) => number, s: readonly HeyResult[], d: readonly HeyResult[]): Row {
  const stowage = median(s.map(rate));
  const distribution = median(d.map(rate));
  return {
    scenario,
    clients,
    unit,
    stowage,
    distribution,
    ratio: stowage / distribution,
    stowageRange: range(s.map(rate)),
    distributionRange: range(d.map(rate)),
    stowageP99Ms: median(s.map((r) => r.p99Ms)),
    distributionP99Ms: median(d.map((r) => r.p99Ms)),
    stowageP99Range: range(s.map((r) => r.p99Ms)),
    distributionP99Range: range(d.map((r) => r.p99Ms)),
  };
}

export function machine(rounds: number, workers: number) {
  return { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg(), rounds, stowageWorkers: workers, date: new Date().toISOString() };
}

const f = (n: number) => (Number.isNaN(n) ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
const spread = ([lo, hi]: readonly [number, number]) => `(${f(lo)}–${f(hi)})`;

export function table(rows: readonly Row[], aborts: readonly AbortRow[], info: ReturnType<typeof machine>): string {
  const lines = [
    `| request | clients | stowage | distribution | stowage/distribution | p99 ms stowage | p99 ms distribution | CPU s/GiB stowage / distribution |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.clients} | ${f(r.stowage)} ${r.unit} ${spread(r.stowageRange)} | ${f(r.distribution)} ${r.unit} ${spread(r.distributionRange)} | ${r.ratio.toFixed(2)}x | ${f(r.stowageP99Ms)} ${spread(r.stowageP99Range)} | ${f(r.distributionP99Ms)} ${spread(r.distributionP99Range)} | ${r.stowageCpuSecondsPerGiB === undefined ? '–' : `${r.stowageCpuSecondsPerGiB.toFixed(2)} / ${(r.distributionCpuSecondsPerGiB ?? Number.NaN).toFixed(2)}`} |`,
    ),
  ];
  if (aborts.length > 0) {
    lines.push('', '| blob GET 200 MiB, stowage only | clients | fresh MiB/s | after aborted downloads MiB/s | aborted | after/fresh | CPU s/GiB fresh → after |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const a of aborts) lines.push(`| fresh process, then the same after aborts | ${a.clients} | ${f(median(a.fresh))} ${spread(range(a.fresh))} | ${f(median(a.afterAborts))} ${spread(range(a.afterAborts))} | ${a.aborted} | ${a.ratio.toFixed(2)}x | ${median(a.freshCpuSecondsPerGiB).toFixed(2)} → ${median(a.afterCpuSecondsPerGiB).toFixed(2)} |`);
  }
  lines.push(
    '',
    `Medians of ${info.rounds} interleaved rounds (min–max in brackets); stowage with ${info.stowageWorkers} worker(s); Node ${info.node}, ${info.cpus} CPUs (${info.cpu}), load average ${info.loadavg.map((l) => l.toFixed(2)).join(' ')} at the end.`,
  );
  return lines.join('\n');
}
