import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { EventStreamLimit, MAX_EVENT_STREAMS_PER_CLIENT } from '../../../src/web/event-stream-limit.js';
import { FakePackageSource } from '../../support/fake-source.js';

/**
 * Sweep 4, F1 and F2: one anonymous client opened a thousand event streams on a chatty build,
 * which stalled every other request and held a megabyte each. Streams are now bounded in all
 * and per client address.
 */
describe('EventStreamLimit', () => {
  it('bounds streams in all and per client, and a release frees one place once', () => {
    const limit = new EventStreamLimit(3, 2);
    const a1 = limit.open('a');
    const a2 = limit.open('a');
    expect(a1).not.toBeNull();
    expect(a2).not.toBeNull();
    expect(limit.open('a')).toBeNull();
    const b1 = limit.open('b');
    expect(b1).not.toBeNull();
    expect(limit.open('c')).toBeNull();
    expect(limit.size).toBe(3);
    a1?.();
    a1?.();
    expect(limit.size).toBe(2);
    expect(limit.open('a')).not.toBeNull();
    expect(limit.open('c')).toBeNull();
  });
});

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.server.close()));
});

describe('GET /api/v1/build-events', () => {
  it('answers 429 TOOMANYREQUESTS past the streams one client may hold, and takes one again once one closes', async () => {
    const source = await FakePackageSource.create();
    const app = await buildApp(
      parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-web-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] } }),
      { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) },
    );
    apps.push(app);
    await app.server.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
    // A build that waits until released keeps its followers' streams open.
    expect((await fetch(`${url}/api/v1/builds/shell/slow`, { method: 'POST' })).status).toBe(202);
    const follow = async (): Promise<{ status: number; abort: () => void; body: string }> => {
      const controller = new AbortController();
      const response = await fetch(`${url}/api/v1/build-events/shell/slow`, { signal: controller.signal });
      const body = response.status === 200 ? '' : await response.text();
      return { status: response.status, abort: () => controller.abort(), body };
    };
    const open = [];
    for (let i = 0; i < MAX_EVENT_STREAMS_PER_CLIENT; i += 1) open.push(await follow());
    expect(open.map((stream) => stream.status)).toEqual(open.map(() => 200));
    const refused = await follow();
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).errors[0].code).toBe('TOOMANYREQUESTS');
    open[0]?.abort();
    // The server frees the place when it sees the connection close.
    let again = await follow();
    for (let tries = 0; again.status !== 200 && tries < 50; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      again = await follow();
    }
    expect(again.status).toBe(200);
    for (const stream of [...open, again]) stream.abort();
    source.release();
  });
});
