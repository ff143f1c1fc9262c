import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RunningRedis } from '../support/redis-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { run, skopeoPull } from '../support/commands.js';
import { blobFiles } from '../support/oci-layout.js';

/**
 * `server.workers: 2`: the real `stowage serve` process with two serving workers sharing the
 * port and Redis for metadata and locks. skopeo builds-and-pulls, pushes and pulls back through
 * it; the workers' request counters (collected by the primary into one `/metrics`) show that
 * both served; SIGTERM stops everything cleanly.
 */
const CREDS = `${TEST_USER}:${TEST_PASSWORD}`;

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Requests each worker counted, from the collected `/metrics` text. */
function requestsByWorker(metrics: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    const match = /^stowage_http_requests_total\{(.*)\} (\d+)$/.exec(line);
    const worker = match?.[1] ? /worker="(\d+)"/.exec(match[1])?.[1] : undefined;
    if (match?.[2] && worker) counts.set(worker, (counts.get(worker) ?? 0) + Number(match[2]));
  }
  return counts;
}

describe('two serving workers sharing the port', { timeout: 240_000 }, () => {
  let redis: RunningRedis;
  let server: ServerProcess;
  let work: string;
  beforeAll(async () => {
    redis = await startRedisServer();
    work = await mkdtemp(join(tmpdir(), 'stowage-cluster-'));
    server = await startServerProcess({
      STOWAGE_DATA_DIR: join(work, 'data'),
      STOWAGE_SERVER_WORKERS: '2',
      STOWAGE_METADATA_BACKEND: 'redis',
      STOWAGE_REDIS_URL: redis.url,
      STOWAGE_AUTH_HTPASSWD_FILE: await writeHtpasswd(),
      STOWAGE_PUSH_NAMESPACES: 'team',
      STOWAGE_DRAIN_MS: '200',
    });
    const logs = server.logs;
    await waitFor(() => logs.filter((line) => line.includes('worker is serving')).length === 2);
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    await redis?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('builds, pushes and pulls with skopeo through both workers, reports both in /metrics, and stops on SIGTERM', async () => {
    const host = `127.0.0.1:${server.port}`;
    const original = join(work, 'original');
    await skopeoPull(host, 'shell/hello:latest', original);
    await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', CREDS, `oci:${original}:x`, `docker://${host}/team/app:1.0`]);
    const back = join(work, 'back');
    await skopeoPull(host, 'team/app:1.0', back);
    const [before, after] = [await blobFiles(original), await blobFiles(back)];
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [digest, bytes] of before) expect(after.get(digest)?.equals(bytes), digest).toBe(true);
    // Every worker sees the tag the other may have written: the records are in Redis.
    for (let i = 0; i < 4; i += 1) {
      const tags = await fetch(`http://${host}/v2/team/app/tags/list`, { headers: { connection: 'close' } }).then((response) => response.json());
      expect(tags).toEqual({ name: 'team/app', tags: ['1.0'] });
    }

    const metrics = await fetch(`http://${host}/metrics`).then((response) => response.text());
    const counts = requestsByWorker(metrics);
    expect([...counts.keys()].sort()).toEqual(['1', '2']);
    for (const [worker, count] of counts) expect(count, `requests served by worker ${worker}`).toBeGreaterThan(0);

    const ready = await fetch(`http://${host}/readyz`);
    expect(ready.status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.logs.filter((line) => line.includes('"msg":"stopped"')).length).toBe(2);
  });
});
