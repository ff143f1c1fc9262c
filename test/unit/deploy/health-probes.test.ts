import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerHealthRoutes, type ReadinessCheck } from '../../../src/registry/health-routes.js';

async function serve(checks: ReadinessCheck[], timeoutMs?: number) {
  const app = Fastify();
  registerHealthRoutes(app, { checks, ...(timeoutMs ? { timeoutMs } : {}) });
  await app.ready();
  return app;
}

describe('health endpoints', () => {
  it('answers /healthz while alive, whatever the dependencies say', async () => {
    const app = await serve([{ name: 'redis', check: () => Promise.reject(new Error('down')) }]);
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 when every check passes', async () => {
    const app = await serve([
      { name: 'storage', check: async () => undefined },
      { name: 'redis', check: async () => undefined },
    ]);
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { storage: 'ok', redis: 'ok' } });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers /readyz 503 in the OCI error envelope naming failing and silent checks', async () => {
    const app = await serve(
      [
        { name: 'storage', check: async () => undefined },
        { name: 'redis', check: () => Promise.reject(new Error('connection refused')) },
        { name: 'slow', check: () => new Promise(() => undefined) },
      ],
      50,
    );
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    const body = response.json() as { status: string; checks: Record<string, string>; errors: Array<{ code: string; message: string }> };
    expect(body.status).toBe('unavailable');
    expect(body.checks).toEqual({ storage: 'ok', redis: 'connection refused', slow: 'no answer within 50 ms' });
    expect(body.errors[0]?.code).toBe('UNAVAILABLE');
    expect(body.errors[0]?.message).toBe('not ready: redis: connection refused; slow: no answer within 50 ms');
  });

  it('reports but does not fail on checks the probe names optional', async () => {
    const app = await serve([
      { name: 'storage', check: async () => undefined },
      { name: 'redis', check: () => Promise.reject(new Error('connection refused')) },
    ]);
    const lenient = await app.inject({ method: 'GET', url: '/readyz?optional=redis' });
    expect(lenient.statusCode).toBe(200);
    expect(lenient.json()).toEqual({ status: 'ready', checks: { storage: 'ok', redis: 'connection refused' } });
    expect((await app.inject({ method: 'GET', url: '/readyz?optional=storage' })).statusCode).toBe(503);
  });
});
