import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_PACKAGE_SET, REPO_ROOT } from './registry-server.js';
import { freePort } from './redis-server.js';
import type { RunningS3 } from './s3-server.js';

export interface ReplicaLogLine {
  readonly msg?: string;
  readonly digest?: string;
  readonly builtLayers?: number;
  readonly image?: string;
  readonly [key: string]: unknown;
}

export interface Replica {
  readonly url: string;
  /** The process's JSON log lines so far. */
  readonly logs: ReplicaLogLine[];
  stop(): Promise<void>;
}

/**
 * One real registry process (`node src/main.ts`, configured through STOWAGE_* variables) with
 * blobs in S3 and metadata in Redis, as a replica behind a load balancer runs: the Nix source on
 * the example package set, info logs collected as JSON. `env` adds or overrides variables.
 */
export async function startReplica(name: string, shared: { readonly redisUrl: string; readonly s3: RunningS3 }, env: Record<string, string> = {}): Promise<Replica> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), `stowage-${name}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...shared.s3.env,
      STOWAGE_HOST: '127.0.0.1',
      STOWAGE_PORT: String(port),
      STOWAGE_DATA_DIR: dataDir,
      STOWAGE_LOG_LEVEL: 'info',
      STOWAGE_SOURCE: 'nix',
      STOWAGE_PACKAGE_SET: EXAMPLE_PACKAGE_SET,
      STOWAGE_BUILD_REQUEST_WAIT_MS: '600000',
      STOWAGE_STORAGE_BACKEND: 's3',
      STOWAGE_S3_BUCKET: shared.s3.bucket,
      STOWAGE_S3_ENDPOINT: shared.s3.endpoint,
      STOWAGE_S3_FORCE_PATH_STYLE: 'true',
      STOWAGE_METADATA_BACKEND: 'redis',
      STOWAGE_REDIS_URL: shared.redisUrl,
      STOWAGE_REDIS_LOCK_TTL_MS: '5000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: ReplicaLogLine[] = [];
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as ReplicaLogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, url, () => stderr);
  return {
    url,
    logs,
    async stop() {
      await stopProcess(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(child: ChildProcess, url: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry process exited with ${child.exitCode}: ${stderr()}`);
    const response = await fetch(`${url}/readyz`).catch(() => null);
    if (response?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`registry process did not become ready: ${stderr()}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
