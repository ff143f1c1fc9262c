/**
 * `npm run bench:serve-backends`: how fast stowage serves what it has built, per blob storage.
 *
 * Starts one S3-compatible server (s3rver, in its own process), then, one after another, a
 * registry process with local disk storage, one with S3 serving bytes through the registry and
 * one redirecting blob GETs to presigned S3 URLs (followed by the client, to the same s3rver).
 * Each builds the same image once, then answers a bounded load:
 *   - manifest GET by tag (cached image): latency p50/p99 at 8 concurrent clients;
 *   - blob GET of the image's biggest layer: throughput at 4 concurrent clients.
 * Prints a table (ratios against local disk) and writes it to bench/serve/backends-results.md.
 * Runs in about a minute and a half; everything on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../test/support/redis-server.js';
import { Clients, get, percentile, runLoad, type LoadResult } from './http-load.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const IMAGE = 'bigdata';
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST_LOAD = { concurrency: 8, maxRequests: 4_000, maxSeconds: 8 };
const BLOB_LOAD = { concurrency: 4, maxRequests: 600, maxSeconds: 12 };

interface Variant {
  readonly name: string;
  readonly env: Record<string, string>;
}

interface Measured {
  readonly variant: string;
  readonly layerBytes: number;
  readonly manifests: LoadResult;
  readonly blobs: LoadResult;
  readonly redirected: boolean;
}

async function startS3rver(): Promise<{ child: ChildProcess; endpoint: string; bucket: string; env: Record<string, string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/serve/s3rver-process.ts'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  for await (const line of lines) {
    if (line.startsWith('{')) return { child, ...(JSON.parse(line) as { endpoint: string; bucket: string; env: Record<string, string> }) };
  }
  throw new Error('s3rver did not start');
}

async function startRegistry(env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-bench-serve-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, STOWAGE_HOST: '127.0.0.1', STOWAGE_PORT: String(port), STOWAGE_DATA_DIR: dataDir, STOWAGE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('registry did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function measure(variant: Variant): Promise<Measured> {
  const registry = await startRegistry(variant.env);
  const clients = new Clients();
  try {
    const manifestUrl = `${registry.url}/v2/${IMAGE}/manifests/latest`;
    const built = await fetch(manifestUrl, { headers: { accept: OCI } });
    if (built.status !== 200) throw new Error(`building ${IMAGE} failed: ${built.status} ${await built.text()}`);
    const manifest = (await built.json()) as { layers: Array<{ digest: string; size: number }> };
    const layer = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
    if (!layer) throw new Error('the image has no layers');
    const blobUrl = `${registry.url}/v2/${IMAGE}/blobs/${layer.digest}`;
    const probe = await get(clients, blobUrl);
    if (probe.bytes !== layer.size) throw new Error(`blob GET returned ${probe.bytes} bytes, want ${layer.size}`);
    // Warm up connections, caches and the JIT before measuring.
    await runLoad({ concurrency: 4, maxRequests: 100, maxSeconds: 5, task: () => get(clients, manifestUrl, { accept: OCI }) });
    await runLoad({ concurrency: 2, maxRequests: 6, maxSeconds: 5, task: () => get(clients, blobUrl) });
    const manifests = await runLoad({ ...MANIFEST_LOAD, task: () => get(clients, manifestUrl, { accept: OCI }) });
    const blobs = await runLoad({
      ...BLOB_LOAD,
      task: async () => {
        const result = await get(clients, blobUrl);
        if (result.bytes !== layer.size) throw new Error(`short blob: ${result.bytes} of ${layer.size} bytes`);
        return result;
      },
    });
    return { variant: variant.name, layerBytes: layer.size, manifests, blobs, redirected: probe.hops > 0 };
  } finally {
    clients.destroy();
    await registry.stop();
  }
}

function table(results: readonly Measured[]): string {
  const fs = results[0] as Measured;
  const mbps = (r: Measured) => r.blobs.bytes / r.blobs.seconds / 1e6;
  const p = (r: Measured, q: number) => percentile(r.manifests.latencies, q);
  const rows = results.map((r) =>
    [
      r.variant,
      mbps(r).toFixed(0),
      `${(mbps(r) / mbps(fs)).toFixed(2)}×`,
      String(r.blobs.requests),
      p(r, 50).toFixed(2),
      p(r, 99).toFixed(2),
      `${(p(r, 50) / p(fs, 50)).toFixed(2)}×`,
      String(r.manifests.requests),
    ].join(' | '),
  );
  return [
    `| storage | blob GET MB/s | vs fs | blob GETs | manifest p50 ms | manifest p99 ms | p50 vs fs | manifest GETs |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|`,
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}

const s3 = await startS3rver();
try {
  const shared = {
    ...s3.env,
    STOWAGE_STORAGE_BACKEND: 's3',
    STOWAGE_S3_BUCKET: s3.bucket,
    STOWAGE_S3_ENDPOINT: s3.endpoint,
    STOWAGE_S3_FORCE_PATH_STYLE: 'true',
    STOWAGE_S3_PREFIX: 'bench/',
  };
  const variants: Variant[] = [
    { name: 'fs (local disk)', env: {} },
    { name: 'S3 proxied', env: shared },
    { name: 'S3 redirect', env: { ...shared, STOWAGE_S3_REDIRECT: 'true' } },
  ];
  const results: Measured[] = [];
  for (const variant of variants) {
    process.stderr.write(`bench:serve: ${variant.name}...\n`);
    results.push(await measure(variant));
  }
  const layer = results[0]?.layerBytes ?? 0;
  const report = [
    `# stowage serve benchmark`,
    '',
    `Image \`${IMAGE}\`, blob = its biggest layer (${(layer / 1e6).toFixed(1)} MB); manifest GET by tag of the built image.`,
    `Blob GETs: ${BLOB_LOAD.concurrency} concurrent clients; manifest GETs: ${MANIFEST_LOAD.concurrency}; keep-alive; loopback.`,
    `S3 = s3rver (an S3-compatible server in Node, one process) for both S3 rows; redirects are followed to it.`,
    `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${new Date().toISOString().slice(0, 10)}.`,
    '',
    table(results),
    '',
  ].join('\n');
  process.stdout.write(`\n${report}`);
  await writeFile(join(REPO_ROOT, 'bench/serve/backends-results.md'), report);
} finally {
  s3.child.kill('SIGTERM');
}
