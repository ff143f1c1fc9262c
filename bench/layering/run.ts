/**
 * `npm run bench:layering -- [--trace FILE] [--budget N]... [--json] [--only a,b]
 *   [--seeds 1,2,3,4,5 | --seed N] [--pulls N] [--nodes N] [--desktop-apps] [--write-trace FILE]
 *   [--write-doc FILE --doc-section NAME] [--data DIR] [--waste] [--past-offset N]
 *   [--identity references|version]`
 * `npm run bench:layering -- --real-debian ...`: see real-debian.ts.
 *
 * Replays pull traces (by default five generated from `--seeds` 1 to 5: 3,000 pulls on 40 nodes
 * each; `--trace FILE` replays one file instead) for every algorithm and budget (20, 50 and 94
 * unless given) and prints markdown tables: the spread over the traces, then the full metrics of
 * the first one. `--json` prints `{"traces": {label: {algorithm: {budget: metrics}}}, "spread":
 * ...}` instead. `--write-doc` also puts the tables and the command into the marked section of a
 * markdown file. `--waste` prints instead where each algorithm's bytes over the floor go (waste.ts).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { algorithms, DEFAULT_ALGORITHMS } from './algorithms.js';
import { PackageSet } from './package-set.js';
import { formatTable, jsonOf, writeDocSection, type Results } from './report.js';
import { floorBytes, Images, simulate } from './simulate.js';
import { formatSpreadTable, spreads, type TraceResults } from './spread.js';
import { DEFAULT_TRACE, generateTrace } from './trace-generator.js';
import { timeLayering } from './timing.js';
import { formatWaste, WASTE_HEADER, wasteBreakdown } from './waste.js';
import { formatTrace, readTrace, type Pull } from './trace.js';

// `--real-debian`: real images through a real registry instead (real-debian.ts has its own flags).
if (process.argv.includes('--real-debian')) {
  await import('./real-debian.js');
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    trace: { type: 'string' },
    budget: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    seed: { type: 'string' },
    seeds: { type: 'string', default: '1,2,3,4,5' },
    pulls: { type: 'string', default: String(DEFAULT_TRACE.pulls) },
    nodes: { type: 'string', default: String(DEFAULT_TRACE.nodes) },
    'desktop-apps': { type: 'boolean', default: false },
    waste: { type: 'boolean', default: false },
    'past-offset': { type: 'string', default: '1000' },
    identity: { type: 'string', default: 'references' },
    'write-trace': { type: 'string' },
    'write-doc': { type: 'string' },
    'doc-section': { type: 'string', default: 'results' },
    data: { type: 'string', default: fileURLToPath(new URL('../../../shared/data/debian-bookworm', import.meta.url)) },
  },
});

const started = Date.now();
/** The command that produced a docs section, without the flags that wrote it. */
const commandLine = (): string => {
  const args = process.argv.slice(2).filter((a, i, list) => !/^--(write-doc|doc-section)$/.test(a) && !/^--(write-doc|doc-section)$/.test(list[i - 1] ?? ''));
  return ['```sh', `npm run bench:layering${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`, '```'].join('\n');
};
const log = (message: string): void => {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
};
if (values.identity !== 'references' && values.identity !== 'version') throw new Error('--identity takes references or version');
const set = new PackageSet(values.data, values.identity);
const seeds = (values.seed ?? values.seeds).split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s))) throw new Error('--seeds takes integers, comma-separated');
const generate = (seed: number): Pull[] =>
  generateTrace(set, {
    ...DEFAULT_TRACE,
    seed,
    pulls: Number(values.pulls),
    nodes: Number(values.nodes),
    desktopApps: values['desktop-apps'],
  });
if (values['write-trace']) {
  const trace = values.trace ? readTrace(values.trace) : generate(seeds[0]!);
  writeFileSync(values['write-trace'], formatTrace(trace));
  log(`wrote ${trace.length} pulls to ${values['write-trace']}`);
  process.exit(0);
}
// `--past-offset 0` takes the replayed trace's own images as the table: what a table could
// know at best (an oracle, for measuring how much the table limits the layering).
const PAST_SEED_OFFSET = Number(values['past-offset']);
if (!Number.isInteger(PAST_SEED_OFFSET) || PAST_SEED_OFFSET < 0) throw new Error('--past-offset takes a non-negative integer');
const budgets = (values.budget ?? ['20', '50', '94']).map(Number);
if (budgets.some((b) => !Number.isInteger(b) || b < 1)) throw new Error('--budget takes positive integers');
const only = values.only?.split(',') ?? DEFAULT_ALGORITHMS;
const all = algorithms(set);
/**
 * The images of a past period, for co-occurrence data: the distinct images of a trace generated
 * with another seed (seed + 1000 unless `--past-offset` says otherwise, same mix and sizes), never
 * the trace being replayed (except with `--past-offset 0`, an oracle).
 */
const pastImages = (seed: number): string[][] => {
  const past = new Images(set);
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const pull of generate(seed + PAST_SEED_OFFSET)) {
    const image = past.get(pull);
    if (seen.has(image.key)) continue;
    seen.add(image.key);
    out.push(image.graph.nodes.map((n) => n.path));
  }
  return out;
};
const unknown = only.filter((name) => !all.some((a) => a.name === name));
if (unknown.length > 0) throw new Error(`unknown algorithm ${unknown.join(', ')}; known: ${all.map((a) => a.name).join(', ')}`);
const chosen = all.filter((a) => only.includes(a.name));

const traces: { label: string; trace: Pull[]; seed: number }[] = values.trace
  ? [{ label: values.trace, trace: readTrace(values.trace), seed: DEFAULT_TRACE.seed }]
  : seeds.map((seed) => ({ label: `seed ${seed}`, trace: generate(seed), seed }));
const byTrace: TraceResults = {};
// Timed with the first trace's data (co-occurrence tables differ per trace).
let timed = chosen;
const about: string[] = [];
const wasteLines: string[] = [];
for (const { label, trace, seed } of traces) {
  const forTrace = chosen.some((a) => a.name.startsWith('stowage-cooc') || a.base !== undefined) ? algorithms(set, pastImages(seed)) : all;
  if (label === traces[0]!.label) timed = forTrace.filter((a) => only.includes(a.name));
  // A fresh image cache per trace: the images of one trace are not kept while the next runs.
  const images = new Images(set);
  const floor = floorBytes(trace, images);
  const distinct = new Set(trace.map((p) => images.get(p).key)).size;
  const nodes = new Set(trace.map((p) => p.node)).size;
  const security = trace.filter((p) => p.release === 'security').length;
  about.push(`${label}: ${trace.length} pulls (${security} after the security update), ${nodes} nodes, ${distinct} distinct images`);
  log(about.at(-1)!);
  if (values.waste) {
    // A base layer holds paths outside the image: waste.ts puts bytes down to layers of the closure only.
    for (const algorithm of forTrace.filter((a) => only.includes(a.name) && a.layerer !== null && a.base === undefined)) {
      for (const budget of budgets) wasteLines.push(formatWaste(`${label} ${algorithm.name} @${budget}`, wasteBreakdown(trace, images, algorithm, budget)));
    }
    log(wasteLines.at(-1) ?? '');
    continue;
  }
  const results: Results = {};
  for (const algorithm of forTrace.filter((a) => only.includes(a.name))) {
    results[algorithm.name] = {};
    // single and floor ignore the budget: run once, report under every budget.
    const budgetFree = algorithm.layerer === null || algorithm.name === 'single';
    for (const budget of budgets) {
      const metrics =
        budgetFree && budget !== budgets[0]
          ? results[algorithm.name]![budgets[0]!]!
          : simulate(trace, images, floor, algorithm, budget);
      results[algorithm.name]![budget] = metrics;
      const ratio = (metrics.bytesPulled / metrics.floorBytes).toFixed(4);
      log(`${label} ${algorithm.name} @${budget}: ${ratio}x floor, update ${metrics.updateAmplification.toFixed(4)}`);
    }
  }
  byTrace[label] = results;
}
if (values.waste) {
  const breakdown = `${WASTE_HEADER}\n${wasteLines.join('\n')}`;
  process.stdout.write(`${breakdown}\n`);
  if (values['write-doc']) writeDocSection(values['write-doc'], values['doc-section'], [commandLine(), '', about.map((a) => `- ${a}`).join('\n'), '', breakdown].join('\n'));
  process.exit(0);
}
// The latency target is about large closures; the trace averages above are mostly small ones.
const TIMING_CLOSURES = [['octave'], ['gnome']];
const timings: string[] = ['| algorithm | budget | closure of | paths | median ms | max ms |', '| --- | ---: | --- | ---: | ---: | ---: |'];
for (const algorithm of timed.filter((a) => a.layerer !== null && a.name !== 'single')) {
  for (const packages of TIMING_CLOSURES) {
    for (const budget of budgets) {
      const t = timeLayering(set, algorithm, packages, budget);
      timings.push(`| ${algorithm.name} | ${budget} | ${packages.join(' ')} | ${t.paths} | ${t.medianMs.toFixed(2)} | ${t.maxMs.toFixed(2)} |`);
    }
  }
}
const first = traces[0]!.label;
const table = [
  `Bytes pulled over the floor and update amplification, median and range over ${traces.length} trace(s), then per trace:`,
  '',
  formatSpreadTable(byTrace, budgets),
  '',
  `All metrics for ${first}:`,
  '',
  formatTable(byTrace[first]!, budgets),
  '',
  'Layering time (median of 15 runs):',
  '',
  timings.join('\n'),
].join('\n');
process.stdout.write(values.json ? `${jsonOf({ traces: byTrace, spread: spreads(byTrace) })}\n` : `${table}\n`);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (values['write-doc']) {
  const traceLines = about.map((a) => `- ${a}`).join('\n');
  const doc = [commandLine(), '', `Traces (run time: ${seconds} s on 2 shared cores):`, '', traceLines, '', table].join('\n');
  writeDocSection(values['write-doc'], values['doc-section'], doc);
  log(`wrote section ${values['doc-section']} of ${values['write-doc']}`);
}
log('done');
