import cluster, { type Worker } from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { METRICS_REPLY, METRICS_REQUEST, WORKER_ID_ENV, WORKER_RECOVERS_ENV, isMessage } from './cluster-messages.js';

/**
 * The primary of `server.workers` serving processes (node:cluster): it serves no request
 * itself. The workers share the listening port (connections are dealt round-robin by this
 * process); metadata and build locks are shared through Redis, which the config requires.
 *
 * - Startup cleanup of upload staging files runs in the first worker only, once: a worker
 *   started later must not truncate a sibling's upload in progress.
 * - A worker that dies after it began listening is replaced; one that dies before is taken for
 *   a startup failure (Redis auth, the port), and everything stops with exit code 1.
 * - SIGTERM or SIGINT is passed on to every worker as SIGTERM, so each drains as a single
 *   process does (`/readyz` fails at once, requests are served for `server.drainMs`, then it
 *   closes); a second signal is passed on too, and the workers exit at once.
 * - `/metrics` on any worker asks this process, which collects every worker's registry (each
 *   labelled `worker`) and answers with all of them.
 * - Tokens one worker issues must verify in the others: without `auth.token.keyFile`, this
 *   process makes the signing key and gives every worker the same one (see sharedTokenKey).
 *
 * @returns the exit code: 0 when every worker stopped cleanly after a signal.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<number> {
  const workers = config.server.workers;
  const tokenKey = await sharedTokenKey(config);
  try {
    return await superviseWorkers(workers, tokenKey ? { STOWAGE_AUTH_TOKEN_KEY_FILE: tokenKey } : {}, logger);
  } finally {
    if (tokenKey) await rm(tokenKey, { force: true });
  }
}

/**
 * The token signing key the workers share when the config names none: made here, written
 * readable by this user only under the data directory's tmp/ with this process's pid leading
 * its name (so a later start removes it should this process be killed), removed at exit.
 */
async function sharedTokenKey(config: Config): Promise<string | null> {
  if (!config.auth.token.enabled || config.auth.token.keyFile !== '') return null;
  const dir = resolvePath(config.dataDir, 'tmp');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${process.pid}-token-key.pem`);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  return file;
}

function superviseWorkers(workers: number, env: Record<string, string>, logger: Logger): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const running = new Map<Worker, number>();
  let stopping = false;
  let failed = false;

  return new Promise<number>((resolve) => {
    const stop = (reason: string): void => {
      if (stopping) logger.warn({ reason }, 'second signal: workers exit now');
      else logger.info({ reason, workers: running.size }, 'stopping the workers');
      stopping = true;
      for (const worker of running.keys()) worker.process.kill('SIGTERM');
      if (running.size === 0) resolve(failed ? 1 : 0);
    };

    const fork = (id: number, recovers: boolean): void => {
      const worker = cluster.fork({ ...env, [WORKER_ID_ENV]: String(id), [WORKER_RECOVERS_ENV]: recovers ? '1' : '0' });
      running.set(worker, id);
      let listening = false;
      worker.once('listening', () => {
        listening = true;
        logger.info({ worker: id, pid: worker.process.pid }, 'worker is serving');
      });
      worker.on('message', (message: unknown) => {
        if (!isMessage(message, METRICS_REQUEST)) return;
        aggregator.clusterMetrics().then(
          (text) => worker.send({ type: METRICS_REPLY, id: message.id, text }),
          (error: unknown) => worker.send({ type: METRICS_REPLY, id: message.id, error: (error as Error).message }),
        );
      });
      worker.once('exit', (code, signal) => {
        running.delete(worker);
        if (stopping) {
          if (code !== 0) failed = true;
          if (running.size === 0) resolve(failed ? 1 : 0);
          return;
        }
        if (!listening) {
          logger.error({ worker: id, code, signal }, 'a worker failed to start: stopping');
          failed = true;
          stop('worker failed to start');
          return;
        }
        logger.error({ worker: id, code, signal }, 'a worker exited: starting another');
        fork(id, false);
      });
    };

    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    logger.info({ workers }, 'starting serving workers');
    for (let id = 1; id <= workers; id += 1) fork(id, id === 1);
  });
}
