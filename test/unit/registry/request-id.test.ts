import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.server.close()));
});

/** An app whose log lines are collected as parsed JSON. */
async function appWithLog(): Promise<{ app: App; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = await buildApp(parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-reqid-')), source: { kind: 'nix', shellPackages: ['minishell'] } }), {
    source: await FakePackageSource.create(),
    blobs: new MemoryBlobStore(),
    metadata: new MemoryMetadataStore(),
    logger: pino({ level: 'info' }, sink),
  });
  apps.push(app);
  return { app, lines };
}

describe('X-Request-Id', () => {
  it('takes a sane incoming id, echoes it and logs the request under it', async () => {
    const { app, lines } = await appWithLog();
    const response = await app.server.inject({ method: 'GET', url: '/v2/', headers: { 'x-request-id': 'lb-7f3a.42:edge' } });
    expect(response.headers['x-request-id']).toBe('lb-7f3a.42:edge');
    const logged = lines.filter((line) => line.reqId === 'lb-7f3a.42:edge');
    // One line per request (request-log.ts), under the client's id.
    expect(logged.map((line) => line.msg)).toEqual(['request']);
  });

  it('replaces ids that are too long or not a plain token with a fresh one', async () => {
    const { app } = await appWithLog();
    const ids = new Set<string>();
    for (const bad of ['x'.repeat(129), 'a b', 'evil\u0000', '{"msg":"forged"}', '']) {
      const response = await app.server.inject({ method: 'GET', url: '/v2/', headers: { 'x-request-id': bad } });
      const id = response.headers['x-request-id'];
      expect(typeof id).toBe('string');
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(id as string);
    }
    const none = await app.server.inject({ method: 'GET', url: '/v2/' });
    ids.add(none.headers['x-request-id'] as string);
    expect(ids.size).toBe(6);
  });
});
