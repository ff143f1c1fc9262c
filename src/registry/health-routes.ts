import type { FastifyInstance } from 'fastify';
import { answerOf } from './error-mapping.js';

/** One dependency the registry needs to serve: the blob store, Redis, ... */
export interface ReadinessCheck {
  /** Short name shown in `/readyz` (`storage`, `redis`). */
  readonly name: string;
  /** Resolves when the dependency answers; rejects with a reason otherwise. */
  check(signal: AbortSignal): Promise<void>;
}

export interface HealthOptions {
  readonly checks: readonly ReadinessCheck[];
  /** A check not answering within this time counts as failed. */
  readonly timeoutMs?: number;
}

/**
 * Probes for load balancers and Kubernetes:
 * - `GET /healthz`: the process is alive and its event loop answers (liveness): always 200.
 * - `GET /readyz`: every configured dependency answers (readiness): 200, or 503 with the OCI
 *   error envelope naming what failed, so a replica that lost S3 or Redis is taken out of
 *   rotation without being restarted. Both answer `{"status":...,"checks":{name: "ok"|reason}}`.
 *   `?optional=redis` (comma-separated names) still reports those checks but does not fail on
 *   them: replicas that can serve cached images without Redis stay in rotation when the one
 *   Redis they share is down.
 */
export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const probe = { config: { access: 'public' as const } };
  app.get('/healthz', probe, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get<{ Querystring: { optional?: string } }>('/readyz', probe, async (request, reply) => {
    const optional = new Set((request.query.optional ?? '').split(',').map((name) => name.trim()));
    const results = await Promise.all(options.checks.map(async (check) => [check.name, await runCheck(check, timeoutMs)] as const));
    const checks = Object.fromEntries(results);
    const failed = results.filter(([name, result]) => result !== 'ok' && !optional.has(name));
    reply.header('cache-control', 'no-store');
    if (failed.length === 0) return reply.send({ status: 'ready', checks });
    request.log.warn({ checks }, 'readiness check failed');
    const message = `not ready: ${failed.map(([name, reason]) => `${name}: ${reason}`).join('; ')}`;
    // The error table's answer, with the probe's own fields beside the envelope.
    const answer = answerOf({ kind: 'NOT_READY', message, detail: checks });
    return reply.code(answer.status).headers(answer.headers).send({ status: 'unavailable', checks, ...answer.body });
  });
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      check.check(signal).then(
        () => 'ok',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
