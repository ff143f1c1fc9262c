/**
 * `npm run bench:layering -- [--trace FILE] [--budget N]... [--json] [--only a,b]
 *   [--seed N] [--pulls N] [--nodes N] [--desktop-apps] [--write-trace FILE]
 *   [--write-doc FILE --doc-section NAME] [--data DIR]`
 *
 * Replays a pull trace (by default one generated from `--seed`: 3,000 pulls on 40 nodes) for
 * every algorithm and budget (20, 50 and 94 unless given) and prints a markdown table, or one
 * JSON object with `--json`. `--write-doc` also puts the table and the command into the marked
 * section of a markdown file.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { algorithms, DEFAULT_ALGORITHMS } from './algorithms.js';
import { PackageSet } from './package-set.js';
import { formatTable, toJson, writeDocSection, type Results } from './report.js';
import { floorBytes, Images, simulate } from './simulate.js';
import { DEFAULT_TRACE, generateTrace } from './trace-generator.js';
import { timeLayering } from './timing.js';
import { formatTrace, readTrace } from './trace.js';

const { values } = parseArgs({
  options: {
    trace: { type: 'string' },
    budget: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    seed: { type: 'string', default: String(DEFAULT_TRACE.seed) },
    pulls: { type: 'string', default: String(DEFAULT_TRACE.pulls) },
    nodes: { type: 'string', default: String(DEFAULT_TRACE.nodes) },
    'desktop-apps': { type: 'boolean', default: false },
    'write-trace': { type: 'string' },
    'write-doc': { type: 'string' },
    'doc-section': { type: 'string', default: 'results' },
    data: { type: 'string', default: fileURLToPath(new URL('../../../shared/data/debian-bookworm', import.meta.url)) },
  },
});

const started = Date.now();
const log = (message: string): void => {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
};
const set = new PackageSet(values.data);
const trace = values.trace
  ? readTrace(values.trace)
  : generateTrace(set, {
      ...DEFAULT_TRACE,
      seed: Number(values.seed),
      pulls: Number(values.pulls),
      nodes: Number(values.nodes),
      desktopApps: values['desktop-apps'],
    });
if (values['write-trace']) {
  writeFileSync(values['write-trace'], formatTrace(trace));
  log(`wrote ${trace.length} pulls to ${values['write-trace']}`);
  process.exit(0);
}
const budgets = (values.budget ?? ['20', '50', '94']).map(Number);
if (budgets.some((b) => !Number.isInteger(b) || b < 1)) throw new Error('--budget takes positive integers');
const only = values.only?.split(',') ?? DEFAULT_ALGORITHMS;
const all = algorithms(set);
const unknown = only.filter((name) => !all.some((a) => a.name === name));
if (unknown.length > 0) throw new Error(`unknown algorithm ${unknown.join(', ')}; known: ${all.map((a) => a.name).join(', ')}`);
const images = new Images(set);
const floor = floorBytes(trace, images);
const distinct = new Set(trace.map((p) => images.get(p).key)).size;
const nodes = new Set(trace.map((p) => p.node)).size;
const security = trace.filter((p) => p.release === 'security').length;
log(`trace: ${trace.length} pulls (${security} on security), ${nodes} nodes, ${distinct} distinct images`);

const results: Results = {};
for (const algorithm of all.filter((a) => only.includes(a.name))) {
  results[algorithm.name] = {};
  // single and floor ignore the budget: run once, report under every budget.
  const budgetFree = algorithm.layerer === null || algorithm.name === 'single';
  for (const budget of budgets) {
    const metrics =
      budgetFree && budget !== budgets[0]
        ? results[algorithm.name]![budgets[0]!]!
        : simulate(trace, images, floor, algorithm, budget);
    results[algorithm.name]![budget] = metrics;
    const ratio = (metrics.bytesPulled / metrics.floorBytes).toFixed(3);
    log(`${algorithm.name} @${budget}: ${ratio}x floor, update ${metrics.updateAmplification.toFixed(3)}`);
  }
}
// The latency target is about large closures; the trace averages above are mostly small ones.
const TIMING_PACKAGES = ['octave'];
const timings: string[] = ['| algorithm | budget | paths | median ms | max ms |', '| --- | ---: | ---: | ---: | ---: |'];
for (const algorithm of all.filter((a) => only.includes(a.name) && a.layerer !== null && a.name !== 'single')) {
  for (const budget of budgets) {
    const t = timeLayering(set, algorithm, TIMING_PACKAGES, budget);
    timings.push(`| ${algorithm.name} | ${budget} | ${t.paths} | ${t.medianMs.toFixed(2)} | ${t.maxMs.toFixed(2)} |`);
  }
}
const table = `${formatTable(results, budgets)}\n\nLayering time for the closure of \`${TIMING_PACKAGES.join(' ')}\` (median of 15 runs):\n\n${timings.join('\n')}`;
process.stdout.write(values.json ? `${toJson(results)}\n` : `${table}\n`);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (values['write-doc']) {
  const args = process.argv.slice(2).filter((a, i, list) => !/^--(write-doc|doc-section)$/.test(a) && !/^--(write-doc|doc-section)$/.test(list[i - 1] ?? ''));
  const command = `npm run bench:layering${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const about = `Trace: ${trace.length} pulls (${security} after the security update), ${nodes} nodes, ${distinct} distinct images. Run time: ${seconds} s on 2 shared cores.`;
  writeDocSection(values['write-doc'], values['doc-section'], ['```sh', command, '```', '', about, '', table].join('\n'));
  log(`wrote section ${values['doc-section']} of ${values['write-doc']}`);
}
log('done');
