import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, skopeoPull } from '../support/commands.js';
import { startCacheServer, type CacheServer } from '../support/binary-cache-server.js';
import { EXAMPLE_REVISION, makeExampleCache, type ExampleCache } from '../support/binary-cache.js';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../support/registry-server.js';

const NIX_COMMANDS = ['nix', 'nix-build', 'nix-instantiate', 'nix-store', 'nix-env', 'nix-shell'];

interface Manifest {
  layers: Array<{ digest: string }>;
  config: { digest: string };
}

/**
 * The promise: images served with no Nix on the server. The registry runs as its own
 * process whose PATH holds only decoy `nix*` commands that record being called; it reads the
 * catalog and a real (xz) binary cache over HTTP; skopeo pulls, umoci unpacks, hello runs.
 */
describe('pull from the catalog source with Nix absent from PATH', () => {
  let cache: ExampleCache;
  let server: CacheServer;
  let work: string;
  let child: ChildProcess;
  let output = '';
  let host: string;
  let decoyLog: string;

  beforeAll(async () => {
    cache = await makeExampleCache({ compression: 'xz', alias: true });
    server = await startCacheServer(cache.dir);
    work = await mkdtemp(join(tmpdir(), 'stowage-nonix-'));
    const bin = join(work, 'bin');
    decoyLog = join(work, 'nix-was-called');
    await run('mkdir', ['-p', bin]);
    for (const command of NIX_COMMANDS) {
      await writeFile(join(bin, command), `#!/bin/sh\necho "${command} $*" >> '${decoyLog}'\nexit 127\n`);
      await chmod(join(bin, command), 0o755);
    }
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: bin,
        HOME: work,
        STOWAGE_HOST: '127.0.0.1',
        STOWAGE_PORT: String(port),
        STOWAGE_DATA_DIR: join(work, 'data'),
        STOWAGE_LOG_LEVEL: 'warn',
        STOWAGE_SOURCE: 'catalog',
        STOWAGE_CATALOGS: cache.catalogFile,
        STOWAGE_CACHE_URL: server.url,
        STOWAGE_CACHE_PUBLIC_KEYS: cache.publicKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForRegistry(`http://${host}/v2/`, child, () => output);
  }, 600_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    await server?.close();
    await cache?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pulls shell/hello and runs it, and never calls Nix', async () => {
    await skopeoPull(host, `shell/hello:${EXAMPLE_REVISION}`, join(work, 'layout'));
    await run('umoci', ['unpack', '--image', `${join(work, 'layout')}:x`, join(work, 'bundle')]);
    const rootfs = join(work, 'bundle', 'rootfs');
    expect((await run('chroot', [rootfs, '/bin/hello'])).stdout).toBe('Hello, world!\n');
    expect((await run('chroot', [rootfs, '/bin/sh', '-c', 'echo ok'])).stdout).toBe('ok\n');
    await expect(stat(decoyLog)).rejects.toThrow(/ENOENT/);
    expect(server.requests.some((path) => path.startsWith('nar/'))).toBe(true);
  }, 300_000);

  it('serves the alias latest as the same image', async () => {
    const byTag = await manifest(host, `shell/hello`, EXAMPLE_REVISION);
    expect(await manifest(host, 'shell/hello', 'latest')).toEqual(byTag);
    await expect(stat(decoyLog)).rejects.toThrow(/ENOENT/);
  }, 300_000);

  it('has the same layer digests as the Nix source building from /nix/store', async () => {
    let nixRegistry: RunningRegistry | undefined;
    try {
      nixRegistry = await startRegistry();
      const fromNix = await manifest(nixRegistry.host, 'shell/hello', 'latest');
      const fromCache = await manifest(host, 'shell/hello', EXAMPLE_REVISION);
      expect(fromCache.layers.map((layer) => layer.digest)).toEqual(fromNix.layers.map((layer) => layer.digest));
      // The configs differ only in labels (source, revision).
      expect(fromCache.config.digest).not.toBe(fromNix.config.digest);
    } finally {
      await nixRegistry?.close();
    }
  }, 300_000);

  it('names unknown packages and revisions', async () => {
    const unknown = await fetch(`http://${host}/v2/hello/nosuch/manifests/${EXAMPLE_REVISION}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('nosuch');
    const revision = await fetch(`http://${host}/v2/hello/manifests/1999-01`);
    expect(revision.status).toBe(404);
    expect(await revision.text()).toContain(EXAMPLE_REVISION);
  });
});

async function manifest(host: string, name: string, tag: string): Promise<Manifest> {
  const response = await fetch(`http://${host}/v2/${name}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    signal: AbortSignal.timeout(240_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${name}:${tag} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Manifest;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForRegistry(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}:\n${output()}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((response) => response.status < 500, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`registry did not start:\n${output()}`);
}

