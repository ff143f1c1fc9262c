/**
 * `npm run bench:auth [-- --json]`: what credentials cost the registry, in one run.
 *
 *   1. Timing of a wrong password for an existing user vs an unknown user (median of each,
 *      interleaved, each from its own loopback address so the failed-login throttle stays out
 *      of it). Target: ratio 0.8–1.25, so timing does not tell who exists.
 *   2. Anonymous manifest GET p99 alone, then while 50 clients flood made-up Basic credentials
 *      (a third on reads that need none, the rest on the login ping and pushes; each client from
 *      its own loopback address).
 *      Target: under 2x.
 *   3. Manifest GET throughput with valid credentials (anonymous pulls off) vs anonymous.
 *      Target: at least 0.9x.
 *
 * Registries run in child processes (bench/auth/server-process.ts); everything on 127.0.0.0/8.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { percentile } from '../serve/http-load.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const JSON_OUTPUT = process.argv.includes('--json');
const MANIFEST = '/v2/tool/manifests/latest';
const auth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function startServer(anonymousPull: boolean): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/auth/server-process.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, BENCH_ANONYMOUS_PULL: String(anonymousPull) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: child.stdout as NonNullable<typeof child.stdout> })) {
    if (line.startsWith('{')) return { url: (JSON.parse(line) as { url: string }).url, stop: () => child.kill('SIGTERM') };
  }
  throw new Error('bench registry did not start');
}

/** One request; resolves with status and milliseconds taken. */
function send(url: string, method: string, headers: Record<string, string>, agent: Agent | false, localAddress?: string): Promise<{ status: number; ms: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolveRequest, reject) => {
    const req = request(url, { method, headers, agent, ...(localAddress ? { localAddress } : {}) }, (res) => {
      res.resume();
      res.once('end', () => resolveRequest({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.once('error', reject);
    req.end();
  });
}

let nextAddress = 0;
/** A fresh loopback source address (127.1.x.y), so each caller has its own throttle record. */
const freshAddress = (): string => `127.1.${(nextAddress >> 8) & 255}.${(nextAddress++ & 255) || 1}`;

async function userCostRatio(url: string): Promise<{ existingMs: number; unknownMs: number; ratio: number }> {
  const existing: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 24; i++) {
    for (const [user, into] of [['bench', existing], [`ghost${i}`, unknown]] as const) {
      const { status, ms } = await send(`${url}/v2/bench/app/blobs/uploads/`, 'POST', { authorization: auth(user, `wrong-${i}`) }, false, freshAddress());
      if (status !== 401) throw new Error(`expected 401, got ${status}`);
      if (i >= 4) into.push(ms);
    }
  }
  const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
  const existingMs = median(existing);
  const unknownMs = median(unknown);
  return { existingMs, unknownMs, ratio: unknownMs / existingMs };
}

/** `concurrency` loops of GETs for `seconds`; latencies sorted, and requests per second. */
async function manifestLoad(url: string, headers: Record<string, string>, seconds: number, concurrency = 4): Promise<{ latencies: number[]; perSecond: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const begin = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const { status, ms } = await send(`${url}${MANIFEST}`, 'GET', { accept: 'application/vnd.oci.image.manifest.v1+json', ...headers }, agent);
        if (status !== 200) throw new Error(`manifest GET answered ${status}`);
        latencies.push(ms);
      }
    }),
  );
  agent.destroy();
  const elapsed = Number(process.hrtime.bigint() - begin) / 1e9;
  return { latencies, perSecond: latencies.length / elapsed };
}

/** 50 clients sending made-up credentials until stopped; returns how many requests they made. */
function flood(url: string): { stop: () => Promise<number> } {
  let running = true;
  let sent = 0;
  const clients = Array.from({ length: 50 }, async (_, i) => {
    const localAddress = `127.2.0.${i + 1}`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress });
    while (running) {
      const headers = { authorization: auth(`user${i}-${sent}`, `guess-${sent}`) };
      // A third on reads that need none (served anonymously, credentials unchecked), the rest on
      // the login ping and pushes, where they are checked until the address is throttled.
      const kind = sent % 3;
      if (kind === 0) await send(`${url}${MANIFEST}`, 'GET', headers, agent).catch(() => null);
      else if (kind === 1) await send(`${url}/v2/`, 'GET', headers, agent).catch(() => null);
      else await send(`${url}/v2/bench/app/manifests/v1`, 'PUT', headers, agent).catch(() => null);
      sent += 1;
    }
    agent.destroy();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return sent;
    },
  };
}

const open = await startServer(true);
const closed = await startServer(false);
try {
  // Warm up: build the image once on each server, and the workers.
  await send(`${open.url}${MANIFEST}`, 'GET', {}, false);
  await send(`${closed.url}${MANIFEST}`, 'GET', { authorization: auth('bench', 'bench-password') }, false);
  // The flood comes last: the password checks it queues outlast it.
  const cost = await userCostRatio(open.url);
  // Alternating one-second rounds whose order flips every round, so a shared machine's load
  // (it swings by 2x within seconds) falls on every side alike.
  const ROUNDS = 8;
  const login = { authorization: auth('bench', 'bench-password') };
  let anonymousRequests = 0;
  let authenticatedRequests = 0;
  let sameServerAuthenticated = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const steps = [
      async () => (anonymousRequests += (await manifestLoad(open.url, {}, 1)).perSecond),
      async () => (authenticatedRequests += (await manifestLoad(closed.url, login, 1)).perSecond),
      async () => (sameServerAuthenticated += (await manifestLoad(open.url, login, 1)).perSecond),
    ];
    for (const step of round % 2 === 0 ? steps : steps.reverse()) await step();
  }
  const anonymous = { perSecond: anonymousRequests / ROUNDS };
  const authenticated = { perSecond: authenticatedRequests / ROUNDS };
  const sameServer = { perSecond: sameServerAuthenticated / ROUNDS };
  // Quiet and flooded phases alternate, so the machine's own load drifts into both alike.
  const quietLatencies: number[] = [];
  const floodLatencies: number[] = [];
  let floodRequests = 0;
  for (let cycle = 0; cycle < 3; cycle++) {
    quietLatencies.push(...(await manifestLoad(open.url, {}, 2)).latencies);
    const flooding = flood(open.url);
    floodLatencies.push(...(await manifestLoad(open.url, {}, 2)).latencies);
    floodRequests += await flooding.stop();
  }
  const summary = (values: number[]) => {
    values.sort((a, b) => a - b);
    return { p50: percentile(values, 50), p99: percentile(values, 99) };
  };
  const quiet = summary(quietLatencies);
  const underFlood = summary(floodLatencies);
  const results = {
    machine: { cores: cpus().length, loadAverage: loadavg()[0] },
    userCost: { ...cost, target: '0.8–1.25', ok: cost.ratio >= 0.8 && cost.ratio <= 1.25 },
    floodP99: { quietMs: quiet.p99, floodMs: underFlood.p99, quietP50Ms: quiet.p50, floodP50Ms: underFlood.p50, ratio: underFlood.p99 / quiet.p99, floodRequests, target: '< 2', ok: underFlood.p99 / quiet.p99 < 2 },
    throughput: { sameServerAuthenticatedPerSecond: sameServer.perSecond, anonymousPerSecond: anonymous.perSecond, authenticatedPerSecond: authenticated.perSecond, ratio: authenticated.perSecond / anonymous.perSecond, target: '>= 0.9', ok: authenticated.perSecond / anonymous.perSecond >= 0.9 },
  };
  const load = loadavg()[0] ?? 0;
  if (JSON_OUTPUT) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    const f = (n: number, digits = 1) => n.toFixed(digits);
    const rows = [
      ['measure', 'baseline', 'compared', 'ratio', 'target', 'ok'],
      ['wrong password: existing vs unknown user (median ms)', f(cost.existingMs), f(cost.unknownMs), f(cost.ratio, 2), results.userCost.target, String(results.userCost.ok)],
      [`anonymous manifest GET p99 (ms): quiet vs 50 flooding clients (${floodRequests} bad requests)`, f(quiet.p99), f(underFlood.p99), f(results.floodP99.ratio, 2), results.floodP99.target, String(results.floodP99.ok)],
      ['manifest GET throughput (req/s): anonymous vs authenticated (anonymous pulls off)', f(anonymous.perSecond, 0), f(authenticated.perSecond, 0), f(results.throughput.ratio, 2), results.throughput.target, String(results.throughput.ok)],
      ['  same, credentials sent where anonymous pulls are on (ignored)', f(anonymous.perSecond, 0), f(sameServer.perSecond, 0), f(sameServer.perSecond / anonymous.perSecond, 2), '>= 0.9', String(sameServer.perSecond / anonymous.perSecond >= 0.9)],
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')}\n`);
    process.stdout.write(`p50 (ms) quiet ${f(quiet.p50)}, under flood ${f(underFlood.p50)}; load average ${f(load, 2)} on ${cpus().length} cores\n`);
  }
} finally {
  open.stop();
  closed.stop();
}
