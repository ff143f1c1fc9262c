import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';

const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:pw-${user}`).toString('base64')}` });

/** The build API and build statuses: what the access rules and the build queue decide there. */
describe('the build API', () => {
  let app: App | undefined;
  let source: FakePackageSource | undefined;
  afterEach(async () => {
    source?.release();
    await app?.server.close();
    app = undefined;
  });

  async function start(extra: ConfigInput): Promise<App> {
    const dir = await mkdtemp(join(tmpdir(), 'build-routes-'));
    const file = join(dir, 'htpasswd');
    await writeFile(file, ['alice', 'carol'].map((name) => `${name}:${bcrypt.hashSync(`pw-${name}`, 4)}\n`).join(''));
    const auth = { htpasswdFile: file, ...(extra.auth ?? {}) };
    const config = parseConfig({ dataDir: dir, logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] }, ...extra, auth });
    source = await FakePackageSource.create();
    app = await buildApp(config, { source, blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) });
    return app;
  }

  it('shows and starts the builds of an image only to callers the rules let pull it', async () => {
    const { server } = await start({ auth: { anonymousPull: false, access: [{ repository: 'extra', users: ['alice'], actions: ['pull'] }] } });
    expect((await server.inject({ method: 'GET', url: '/v2/extra/manifests/latest', headers: basic('alice') })).statusCode).toBe(200);
    expect((await server.inject({ method: 'GET', url: '/v2/tool/manifests/latest', headers: basic('carol') })).statusCode).toBe(200);

    const listed = async (user: string): Promise<string[]> => {
      const response = await server.inject({ method: 'GET', url: '/api/v1/builds', headers: basic(user) });
      expect(response.statusCode).toBe(200);
      return (response.json() as { builds: Array<{ image: string }> }).builds.map((status) => status.image);
    };
    expect(await listed('alice')).toEqual(expect.arrayContaining(['extra', 'tool']));
    expect(await listed('carol')).toContain('tool');
    expect(await listed('carol')).not.toContain('extra');

    for (const [method, url] of [['GET', '/api/v1/builds/extra'], ['POST', '/api/v1/builds/extra'], ['GET', '/api/v1/build-events/extra']] as const) {
      const refused = await server.inject({ method, url, headers: basic('carol') });
      expect(refused.statusCode, `${method} ${url}`).toBe(403);
      expect(refused.json().errors[0].code).toBe('DENIED');
      expect(refused.body).not.toContain('sha256:');
    }
    expect((await server.inject({ method: 'GET', url: '/api/v1/builds/extra', headers: basic('alice') })).statusCode).toBe(200);
    expect((await server.inject({ method: 'POST', url: '/api/v1/builds/extra', headers: basic('alice') })).json()).toMatchObject({ status: 'built' });
  });

  it('answers 429 TOOMANYREQUESTS, not "started", when the build queue would refuse the build', async () => {
    const started = await start({ builds: { concurrency: 1, maxQueued: 0 } });
    const slow = started.server.inject({ method: 'GET', url: '/v2/slow/manifests/latest' });
    // The slow build holds the only slot once it is in the queue.
    while (!started.builder.queueFull) await new Promise((resolve) => setImmediate(resolve));
    const refused = await started.server.inject({ method: 'POST', url: '/api/v1/builds/tool' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.json().errors[0].code).toBe('TOOMANYREQUESTS');
    const statuses = (await started.server.inject({ method: 'GET', url: '/api/v1/builds' })).json() as { builds: Array<{ image: string }> };
    expect(statuses.builds.map((status) => status.image)).not.toContain('tool');
    source?.release();
    expect((await slow).statusCode).toBe(200);
    expect((await started.server.inject({ method: 'POST', url: '/api/v1/builds/tool' })).statusCode).toBe(202);
  });
});
