import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { defaultCmd } from '../../../src/builder/default-cmd.js';
import { FakePackageSource } from '../../support/fake-source.js';

describe('defaultCmd', () => {
  it('is /bin/sh with a shell, the one executable of a single package, else nothing', () => {
    expect(defaultCmd(true, ['busybox', 'hello'], new Set(['hello', 'sh']))).toEqual({ cmd: ['/bin/sh'] });
    expect(defaultCmd(true, ['tool'], new Set(['tool']))).toEqual({});
    expect(defaultCmd(false, ['greeter'], new Set(['greeter']))).toEqual({ cmd: ['/bin/greeter'] });
    expect(defaultCmd(false, ['jq'], new Set(['jq', 'jq-helper']))).toEqual({});
    expect(defaultCmd(false, ['greeter', 'hello'], new Set(['greeter']))).toEqual({});
    expect(defaultCmd(false, ['libjson'], new Set())).toEqual({});
  });
});

describe('the Cmd of built images', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildApp(parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'stowage-cmd-')), source: { kind: 'nix', shellPackages: ['minishell'] } }), {
      source: await FakePackageSource.create(),
      blobs: new MemoryBlobStore(),
      metadata: new MemoryMetadataStore(),
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await app?.server.close();
  });

  async function cmdOf(name: string): Promise<unknown> {
    const manifest = await app.server.inject({ method: 'GET', url: `/v2/${name}/manifests/latest`, headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(manifest.statusCode).toBe(200);
    const configDigest = (manifest.json() as { config: { digest: string } }).config.digest;
    const config = await app.server.inject({ method: 'GET', url: `/v2/${name}/blobs/${configDigest}` });
    return (JSON.parse(config.body) as { config: { Cmd?: string[] } }).config.Cmd;
  }

  it('runs a single package with one executable, a shell image runs the shell, and others name no command', async () => {
    expect(await cmdOf('tool')).toEqual(['/bin/tool']);
    expect(await cmdOf('shell/tool')).toEqual(['/bin/sh']);
    expect(await cmdOf('extra/tool')).toBeUndefined();
  });
});
