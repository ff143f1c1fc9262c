/**
 * `npm run bench:serve [-- --json] [-- --rounds N]`: stowage beside Debian's `docker-registry`
 * (distribution 2.8), both on local disk, serving the same bytes on loopback.
 *
 * Pushes to both a 200 MiB blob in a one-layer image (the same manifest bytes), builds the
 * example image `bigdata` in stowage and copies it to distribution with skopeo. Then, in
 * interleaved rounds (which server goes first alternates), `hey` measures:
 *   - the large blob GET at 1 and 16 clients (MiB/s);
 *   - warm manifest GETs, pushed (by digest) and built (by tag), at 1, 16 and 64 clients (req/s, p99);
 *   - pushed manifest GETs with Basic credentials at 16 clients (a second distribution with
 *     htpasswd on the same storage; stowage with htpasswd and anonymous pulls, so it checks them).
 * Prints the medians and stowage/distribution ratios as a table, or JSON with --json;
 * `--only blob` (any word of a row's name) runs only those rows.
 * STOWAGE_BENCH_CHECKOUT=<dir> serves stowage from another checkout (before/after comparisons).
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { freePort } from '../../test/support/redis-server.js';
import { startDistribution, stopChild, waitUntil, type Server } from './distribution.js';
import { hey, type HeyResult } from './hey.js';
import { OCI_MANIFEST, makeBenchImage, pushImage } from './push.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const BLOB_BYTES = 200 * 1024 * 1024;
const USER = 'bench';
const PASSWORD = 'bench password';
const args = process.argv.slice(2);
const json = args.includes('--json');
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 3) || 3;
/** `--only blob`: only the request kinds whose name contains the word. */
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '') : '';

interface Scenario {
  readonly name: string;
  readonly unit: 'MiB/s' | 'req/s';
  readonly concurrency: number;
  readonly requests: number;
  /** The URL and headers for each server. */
  readonly target: (server: 'stowage' | 'distribution') => { url: string; headers: Record<string, string> };
}

async function startStowage(dataDir: string, htpasswd: string): Promise<Server> {
  const port = await freePort();
  // STOWAGE_BENCH_CHECKOUT runs another checkout's server (e.g. main, for a before/after).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.env.STOWAGE_BENCH_CHECKOUT ?? REPO_ROOT,
    env: {
      ...process.env,
      STOWAGE_HOST: '127.0.0.1',
      STOWAGE_PORT: String(port),
      STOWAGE_DATA_DIR: dataDir,
      STOWAGE_LOG_LEVEL: 'warn',
      STOWAGE_SOURCE: 'nix',
      STOWAGE_AUTH_HTPASSWD_FILE: htpasswd,
      STOWAGE_AUTH_ANONYMOUS_PULL: 'true',
      STOWAGE_PUSH_NAMESPACES: 'bench',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(url, () => child.exitCode !== null, '/readyz');
  return { url, stop: () => stopChild(child) };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const work = await mkdtemp(join(tmpdir(), 'stowage-bench-serve-'));
const servers: Server[] = [];
try {
  const htpasswd = join(work, 'htpasswd');
  // Cost 5 is what `htpasswd -B` writes by default.
  await writeFile(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 5).replace(/^\$2b\$/, '$2y$')}\n`);
  const basic = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  const distRoot = join(work, 'distribution');
  const stowage = await startStowage(join(work, 'stowage'), htpasswd);
  servers.push(stowage);
  const distribution = await startDistribution(distRoot, work);
  servers.push(distribution);
  const distributionAuth = await startDistribution(distRoot, work, htpasswd);
  servers.push(distributionAuth);

  process.stderr.write('bench:serve: pushing a 200 MiB image to both, building bigdata...\n');
  const image = makeBenchImage(BLOB_BYTES);
  const pushedStowage = await pushImage(stowage.url, 'bench/big', image, basic);
  const pushedDistribution = await pushImage(distribution.url, 'bench/big', image, {});
  if (pushedStowage.digest !== pushedDistribution.digest) throw new Error('the two registries hold different manifests');
  const built = await fetch(`${stowage.url}/v2/bigdata/manifests/latest`, { headers: { accept: OCI_MANIFEST } });
  if (built.status !== 200) throw new Error(`building bigdata failed: ${built.status} ${await built.text()}`);
  const builtDigest = built.headers.get('docker-content-digest');
  await promisify(execFile)('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests', `docker://${stowage.url.slice(7)}/bigdata:latest`, `docker://${distribution.url.slice(7)}/bigdata:latest`]);
  const copied = await fetch(`${distribution.url}/v2/bigdata/manifests/latest`, { headers: { accept: OCI_MANIFEST } });
  if (copied.headers.get('docker-content-digest') !== builtDigest) throw new Error(`distribution serves ${copied.headers.get('docker-content-digest')} for bigdata, stowage ${builtDigest}`);

  const blob = `/v2/bench/big/blobs/${pushedStowage.layerDigest}`;
  const pushedManifest = `/v2/bench/big/manifests/${pushedStowage.digest}`;
  const accept = { accept: OCI_MANIFEST };
  const on = (path: string, headers: Record<string, string> = {}) => (server: 'stowage' | 'distribution') => ({ url: `${server === 'stowage' ? stowage.url : distribution.url}${path}`, headers });
  const allScenarios: Scenario[] = [
    { name: 'blob GET 200 MiB', unit: 'MiB/s', concurrency: 1, requests: 12, target: on(blob) },
    { name: 'blob GET 200 MiB', unit: 'MiB/s', concurrency: 16, requests: 48, target: on(blob) },
    ...[1, 16, 64].flatMap((concurrency): Scenario[] => [
      { name: 'pushed manifest GET', unit: 'req/s', concurrency, requests: concurrency === 1 ? 2000 : 6000, target: on(pushedManifest, accept) },
      { name: 'built manifest GET (tag)', unit: 'req/s', concurrency, requests: concurrency === 1 ? 2000 : 6000, target: on('/v2/bigdata/manifests/latest', accept) },
    ]),
    {
      name: 'pushed manifest GET, Basic auth',
      unit: 'req/s',
      concurrency: 16,
      requests: 3000,
      target: (server) => ({ url: `${server === 'stowage' ? stowage.url : distributionAuth.url}${pushedManifest}`, headers: { ...accept, ...basic } }),
    },
  ];
  const scenarios = allScenarios.filter((scenario) => scenario.name.includes(only));

  // Warm both: connections, stowage's JIT and caches, distribution's descriptor cache.
  for (const scenario of scenarios) for (const server of ['stowage', 'distribution'] as const) {
    const { url, headers } = scenario.target(server);
    await hey(url, { requests: Math.min(scenario.requests, scenario.unit === 'MiB/s' ? 2 : 200), concurrency: Math.min(scenario.concurrency, 2), maxSeconds: 60, headers });
  }
  const results = scenarios.map(() => ({ stowage: [] as HeyResult[], distribution: [] as HeyResult[] }));
  for (let round = 0; round < rounds; round += 1) {
    process.stderr.write(`bench:serve: round ${round + 1} of ${rounds}\n`);
    for (const [i, scenario] of scenarios.entries()) {
      const order = (round + i) % 2 === 0 ? (['stowage', 'distribution'] as const) : (['distribution', 'stowage'] as const);
      for (const server of order) {
        const { url, headers } = scenario.target(server);
        results[i]?.[server].push(await hey(url, { requests: scenario.requests, concurrency: scenario.concurrency, maxSeconds: 120, headers }));
      }
    }
  }

  const rate = (scenario: Scenario, r: HeyResult) => (scenario.unit === 'MiB/s' ? r.bytes / r.seconds / 2 ** 20 : r.requestsPerSecond);
  const rows = scenarios.map((scenario, i) => {
    const { stowage: s, distribution: d } = results[i] as { stowage: HeyResult[]; distribution: HeyResult[] };
    const row = {
      scenario: scenario.name,
      clients: scenario.concurrency,
      unit: scenario.unit,
      stowage: median(s.map((r) => rate(scenario, r))),
      distribution: median(d.map((r) => rate(scenario, r))),
      stowageP99Ms: median(s.map((r) => r.p99Ms)),
      distributionP99Ms: median(d.map((r) => r.p99Ms)),
      stowageRange: [Math.min(...s.map((r) => rate(scenario, r))), Math.max(...s.map((r) => rate(scenario, r)))],
      distributionRange: [Math.min(...d.map((r) => rate(scenario, r))), Math.max(...d.map((r) => rate(scenario, r)))],
    };
    return { ...row, ratio: row.stowage / row.distribution };
  });
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg(), rounds, date: new Date().toISOString() };
  if (json) {
    process.stdout.write(`${JSON.stringify({ machine, rows }, null, 2)}\n`);
  } else {
    const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
    const lines = [
      `| request | clients | stowage | distribution | stowage/distribution | p99 ms stowage | p99 ms distribution |`,
      `|---|---:|---:|---:|---:|---:|---:|`,
      ...rows.map((r) => `| ${r.scenario} | ${r.clients} | ${f(r.stowage)} ${r.unit} (${f(r.stowageRange[0] as number)}–${f(r.stowageRange[1] as number)}) | ${f(r.distribution)} ${r.unit} (${f(r.distributionRange[0] as number)}–${f(r.distributionRange[1] as number)}) | ${r.ratio.toFixed(2)}x | ${r.stowageP99Ms.toFixed(2)} | ${r.distributionP99Ms.toFixed(2)} |`),
      '',
      `Medians of ${rounds} interleaved rounds (min–max in brackets); Node ${machine.node}, ${machine.cpus} CPUs (${machine.cpu}), load average ${machine.loadavg.map((l) => l.toFixed(2)).join(' ')} at the end.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  for (const server of servers.reverse()) await server.stop().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
