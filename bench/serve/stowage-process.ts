import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort, type RunningRedis } from '../../test/support/redis-server.js';
import { stopChild, waitUntil, type Server } from './distribution.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface StowageOptions {
  readonly dataDir: string;
  readonly htpasswd: string;
  /** `server.workers`; more than one needs `redis` for the metadata. */
  readonly workers: number;
  readonly redis: RunningRedis | null;
  /** Extra environment, e.g. the accel-redirect prefix when nginx is in front. */
  readonly env?: Record<string, string>;
}

/**
 * `src/main.ts` on loopback, local-disk blobs, Nix source, htpasswd with anonymous pulls, push
 * namespace `bench`. STOWAGE_BENCH_CHECKOUT=<dir> runs another checkout's server (before/after).
 */
export async function startStowage(options: StowageOptions): Promise<Server> {
  const port = await freePort();
  const redis = options.workers > 1 ? options.redis : null;
  if (options.workers > 1 && !redis) throw new Error('more than one worker needs redis');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.env.STOWAGE_BENCH_CHECKOUT ?? REPO_ROOT,
    env: {
      ...process.env,
      STOWAGE_HOST: '127.0.0.1',
      STOWAGE_PORT: String(port),
      STOWAGE_DATA_DIR: options.dataDir,
      STOWAGE_LOG_LEVEL: 'warn',
      STOWAGE_SOURCE: 'nix',
      STOWAGE_AUTH_HTPASSWD_FILE: options.htpasswd,
      STOWAGE_AUTH_ANONYMOUS_PULL: 'true',
      STOWAGE_PUSH_NAMESPACES: 'bench',
      STOWAGE_DRAIN_MS: '0',
      ...options.env,
      ...(redis ? { STOWAGE_SERVER_WORKERS: String(options.workers), STOWAGE_METADATA_BACKEND: 'redis', STOWAGE_REDIS_URL: redis.url } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(url, () => child.exitCode !== null, '/readyz');
  return { url, ...(child.pid ? { pid: child.pid } : {}), stop: () => stopChild(child) };
}
