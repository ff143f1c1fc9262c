import { Agent, get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { run } from '../support/commands.js';

/**
 * A first pull may wait minutes for its build with no byte on the wire: the server's sockets
 * carry TCP keep-alive probes (so NATs and proxies keep them), and no server timeout ends a
 * response that takes long.
 */
let registry: RunningRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.close();
});

describe('server connections', () => {
  it('have TCP keep-alive on, and no request or connection timeout that would end a long response', async () => {
    const port = registry.host.split(':')[1] as string;
    const agent = new Agent({ keepAlive: true });
    const status = await new Promise<number>((resolve, reject) => {
      get(`${registry.url}/healthz`, { agent }, (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      }).once('error', reject);
    });
    expect(status).toBe(200);
    // The kernel's view of the server side of the still-open connection: a keepalive timer.
    const sockets = await run('ss', ['-tnoH', 'state', 'established', `( sport = :${port} )`]);
    agent.destroy();
    expect(sockets.stdout).toMatch(/timer:\(keepalive,/);
    const server = registry.app.server.server;
    expect(server.requestTimeout).toBe(0);
    expect(server.timeout).toBe(0);
    expect(server.keepAliveTimeout).toBe(72_000);
  });
});
