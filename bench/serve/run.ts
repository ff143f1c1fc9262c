/**
 * `npm run bench:serve [-- --json] [-- --rounds N] [-- --workers N] [-- --only WORD]`: stowage
 * beside Debian's `docker-registry` (distribution 2.8), both on local disk, serving the same
 * bytes on loopback.
 *
 * Pushes to both a 200 MiB blob in a one-layer image (the same manifest bytes), builds the
 * example image `bigdata` in stowage and copies it to distribution with skopeo. Then, in
 * interleaved rounds (which server goes first alternates), `hey` measures:
 *   - the large blob GET at 1 and 16 clients (MiB/s);
 *   - warm manifest GETs, pushed (by digest and by tag) and built (by tag), at 1, 16 and 64 clients (req/s, p99);
 *   - the same while another process loads every CPU (a busy loop per core, normal priority);
 *   - pushed manifest GETs with Basic credentials at 16 clients (a second distribution with
 *     htpasswd on the same storage; stowage with htpasswd and anonymous pulls, so it checks them).
 * Last, stowage alone: blob throughput of a fresh process, then of the same process after 100
 * downloads its clients cut mid-body (each round starts a fresh process).
 * stowage runs with `--workers` serving processes (default 2, with Redis metadata; 1 = one
 * process, fs metadata). Prints medians, spreads and ratios as a table, or JSON with --json;
 * `--only WORD` runs only the rows whose name contains WORD. `--front nginx` also runs the blob
 * rows through nginx (deploy/nginx/stowage.conf, two workers) in front of the same stowage,
 * which answers them with X-Accel-Redirect (server.accelRedirectPrefix), beside distribution.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { startDistribution, type Server } from './distribution.js';
import { hey, type HeyResult } from './hey.js';
import { OCI_MANIFEST, makeBenchImage, pushImage } from './push.js';
import { startStowage } from './stowage-process.js';
import { startNginx } from '../../test/support/nginx.js';
import { startRedisServer, type RunningRedis } from '../../test/support/redis-server.js';
import { loadCpus } from './cpu-load.js';
import { abortDownloads } from './aborted-downloads.js';
import { machine, median, row, table, type AbortRow } from './report.js';
import { cpuSeconds } from './cpu-time.js';

const BLOB_BYTES = 200 * 1024 * 1024;
const ABORTED = 100;
const USER = 'bench';
const PASSWORD = 'bench password';
const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const json = args.includes('--json');
const rounds = Number(option('--rounds') ?? 3) || 3;
const workers = Number(option('--workers') ?? 2) || 2;
/** `--only blob`: only the request kinds whose name contains the word. */
const only = option('--only') ?? '';
const front = option('--front');
if (front !== undefined && front !== 'nginx') throw new Error('--front takes nginx');
const ACCEL_PREFIX = '/_stowage_blobs/';

type Which = 'stowage' | 'distribution';
interface Scenario {
  readonly name: string;
  readonly unit: 'MiB/s' | 'req/s';
  readonly concurrency: number;
  readonly requests: number;
  /** Run while every CPU is loaded by another process. */
  readonly cpuLoad?: boolean;
  readonly target: (server: Which) => { url: string; headers: Record<string, string> };
  /** The processes serving it, whose CPU per GiB is reported (blob rows). */
  readonly cpu?: (server: Which) => readonly (number | undefined)[];
}

const rate = (unit: Scenario['unit']) => (r: HeyResult) => (unit === 'MiB/s' ? r.bytes / r.seconds / 2 ** 20 : r.requestsPerSecond);
const blobRun = (url: string, concurrency: number) => hey(url, { requests: concurrency === 1 ? 12 : 48, concurrency, maxSeconds: 120 });

const work = await mkdtemp(join(tmpdir(), 'stowage-bench-serve-'));
const servers: Server[] = [];
let redis: RunningRedis | null = null;
try {
  redis = workers > 1 ? await startRedisServer() : null;
  const htpasswd = join(work, 'htpasswd');
  // Cost 5 is what `htpasswd -B` writes by default.
  await writeFile(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 5).replace(/^\$2b\$/, '$2y$')}\n`);
  const basic = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  const distRoot = join(work, 'distribution');
  const stowageData = join(work, 'stowage');
  const stowageEnv = front ? { STOWAGE_ACCEL_REDIRECT_PREFIX: ACCEL_PREFIX, STOWAGE_TRUST_PROXY: 'loopback' } : undefined;
  let stowage = await startStowage({ dataDir: stowageData, htpasswd, workers, redis, env: stowageEnv });
  servers.push(stowage);
  // nginx's workers run as nobody: the work directory (mkdtemp, private) must be readable.
  if (front) await chmod(work, 0o755);
  const nginx = front ? await startNginx(stowage.url.slice(7), join(stowageData, 'storage', 'blobs'), { workers: 2, accessLog: false }) : null;
  if (nginx) servers.push({ url: nginx.url, stop: () => nginx.stop() });
  const distribution = await startDistribution(distRoot, work);
  servers.push(distribution);
  const distributionAuth = await startDistribution(distRoot, work, htpasswd);
  servers.push(distributionAuth);

  process.stderr.write(`bench:serve: pushing a 200 MiB image to both, building bigdata (stowage with ${workers} worker(s))...\n`);
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
  const on = (path: string, headers: Record<string, string> = {}) => (server: Which) => ({ url: `${server === 'stowage' ? stowage.url : distribution.url}${path}`, headers });
  const manifests = (suffix: string, cpuLoad: boolean) =>
    [1, 16, 64].flatMap((concurrency): Scenario[] => [
      { name: `pushed manifest GET${suffix}`, unit: 'req/s', concurrency, cpuLoad, requests: concurrency === 1 ? 2000 : 6000, target: on(pushedManifest, accept) },
      // What `docker pull name:tag` asks first.
      { name: `pushed manifest GET (tag)${suffix}`, unit: 'req/s', concurrency, cpuLoad, requests: concurrency === 1 ? 2000 : 6000, target: on('/v2/bench/big/manifests/v1', accept) },
      { name: `built manifest GET (tag)${suffix}`, unit: 'req/s', concurrency, cpuLoad, requests: concurrency === 1 ? 2000 : 6000, target: on('/v2/bigdata/manifests/latest', accept) },
    ]);
  const direct = (server: Which) => [server === 'stowage' ? stowage.pid : distribution.pid];
  const fronted = (server: Which) => (server === 'stowage' ? [nginx?.pid, stowage.pid] : [distribution.pid]);
  const behindNginx = (server: Which) => (server === 'stowage' && nginx ? { url: `${nginx.url}${blob}`, headers: {} } : on(blob)(server));
  const allScenarios: Scenario[] = [
    { name: 'blob GET 200 MiB', unit: 'MiB/s', concurrency: 1, requests: 12, target: on(blob), cpu: direct },
    ...(nginx ? [{ name: 'blob GET 200 MiB, behind nginx', unit: 'MiB/s', concurrency: 1, requests: 12, target: behindNginx, cpu: fronted } as const] : []),
    { name: 'blob GET 200 MiB', unit: 'MiB/s', concurrency: 16, requests: 48, target: on(blob), cpu: direct },
    ...(nginx ? [{ name: 'blob GET 200 MiB, behind nginx', unit: 'MiB/s', concurrency: 16, requests: 48, target: behindNginx, cpu: fronted } as const] : []),
    ...manifests('', false),
    ...manifests(', CPUs loaded', true),
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
  const cpuPerGiB = scenarios.map(() => ({ stowage: [] as number[], distribution: [] as number[] }));
  const cpuOf = (pids: readonly (number | undefined)[]) => pids.reduce<number>((sum, pid) => sum + (pid === undefined ? 0 : cpuSeconds(pid)), 0);
  for (let round = 0; round < rounds; round += 1) {
    process.stderr.write(`bench:serve: round ${round + 1} of ${rounds}\n`);
    for (const [i, scenario] of scenarios.entries()) {
      const order = (round + i) % 2 === 0 ? (['stowage', 'distribution'] as const) : (['distribution', 'stowage'] as const);
      for (const server of order) {
        const { url, headers } = scenario.target(server);
        const load = scenario.cpuLoad ? loadCpus() : null;
        try {
          const pids = scenario.cpu?.(server) ?? [];
          const cpuBefore = cpuOf(pids);
          const result = await hey(url, { requests: scenario.requests, concurrency: scenario.concurrency, maxSeconds: 120, headers });
          results[i]?.[server].push(result);
          if (scenario.cpu) cpuPerGiB[i]?.[server].push((cpuOf(pids) - cpuBefore) / (result.bytes / 2 ** 30));
        } finally {
          await load?.stop();
        }
      }
    }
  }
  const rows = scenarios.map((scenario, i) => ({
    ...row(scenario.name, scenario.concurrency, scenario.unit, rate(scenario.unit), results[i]?.stowage ?? [], results[i]?.distribution ?? []),
    ...(scenario.cpu ? { stowageCpuSecondsPerGiB: median(cpuPerGiB[i]?.stowage ?? []), distributionCpuSecondsPerGiB: median(cpuPerGiB[i]?.distribution ?? []) } : {}),
  }));

  // A fresh stowage each round: its blob throughput, then the same process's after the aborts.
  const aborts: AbortRow[] = [];
  if ('aborted downloads'.includes(only)) {
    await stowage.stop();
    servers.splice(servers.indexOf(stowage), 1);
    const perClients = new Map<number, { fresh: number[]; after: number[]; freshCpu: number[]; afterCpu: number[] }>([1, 16].map((clients) => [clients, { fresh: [], after: [], freshCpu: [], afterCpu: [] }]));
    /** The rate, and the CPU seconds per GiB the stowage process spent. */
    const measured = async (url: string, clients: number, rates: number[], cpus: number[]) => {
      const before = stowage.pid === undefined ? Number.NaN : cpuSeconds(stowage.pid);
      const result = await blobRun(url, clients);
      rates.push(rate('MiB/s')(result));
      cpus.push(((stowage.pid === undefined ? Number.NaN : cpuSeconds(stowage.pid)) - before) / (result.bytes / 2 ** 30));
    };
    for (let round = 0; round < rounds; round += 1) {
      process.stderr.write(`bench:serve: aborted downloads, round ${round + 1} of ${rounds}\n`);
      stowage = await startStowage({ dataDir: stowageData, htpasswd, workers, redis, env: stowageEnv });
      servers.push(stowage);
      const url = `${stowage.url}${blob}`;
      for (const [clients, figures] of perClients) await measured(url, clients, figures.fresh, figures.freshCpu);
      await abortDownloads(url, ABORTED);
      for (const [clients, figures] of perClients) await measured(url, clients, figures.after, figures.afterCpu);
      await stowage.stop();
      servers.splice(servers.indexOf(stowage), 1);
    }
    for (const [clients, { fresh, after, freshCpu, afterCpu }] of perClients) {
      aborts.push({ clients, fresh, afterAborts: after, aborted: ABORTED, ratio: median(after.map((a, i) => a / (fresh[i] as number))), freshCpuSecondsPerGiB: freshCpu, afterCpuSecondsPerGiB: afterCpu });
    }
  }

  const info = machine(rounds, workers);
  process.stdout.write(json ? `${JSON.stringify({ machine: info, rows, abortedDownloads: aborts }, null, 2)}\n` : `${table(rows, aborts, info)}\n`);
} finally {
  for (const server of servers.reverse()) await server.stop().catch(() => undefined);
  await redis?.close();
  await rm(work, { recursive: true, force: true });
}
