import { mkdtemp, readFile, stat, writeFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { run, skopeoPull } from '../support/commands.js';

/**
 * The whole path a user takes: a real registry building from the example package set with real
 * Nix, skopeo pulling, umoci unpacking, and the image's programs running under chroot and runc.
 */
describe('pull shell/hello and run it', () => {
  let registry: RunningRegistry;
  let work: string;
  let bundle: string;

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'stowage-pull-'));
    bundle = join(work, 'bundle');
    await skopeoPull(registry.host, 'shell/hello:latest', join(work, 'layout'));
    await run('umoci', ['unpack', '--image', `${join(work, 'layout')}:x`, bundle]);
  });

  afterAll(async () => {
    await registry?.close();
  });

  it('runs hello and sh under chroot', async () => {
    const rootfs = join(bundle, 'rootfs');
    expect((await run('chroot', [rootfs, '/bin/hello'])).stdout).toBe('Hello, world!\n');
    expect((await run('chroot', [rootfs, '/bin/sh', '-c', 'echo ok'])).stdout).toBe('ok\n');
    expect((await run('chroot', [rootfs, '/usr/bin/env', 'sh', '-c', 'id -u'])).stdout).toBe('0\n');
  });

  it('runs the image with runc', async () => {
    const configPath = join(bundle, 'config.json');
    const spec = JSON.parse(await readFile(configPath, 'utf8')) as { process: { terminal: boolean; args: string[] } };
    spec.process.terminal = false;
    spec.process.args = ['/bin/sh', '-c', 'echo ok && hello'];
    await writeFile(configPath, JSON.stringify(spec));
    const id = `stowage-test-${process.pid}`;
    const result = await run('runc', ['--root', join(work, 'runc-state'), 'run', '-b', bundle, id]);
    expect(result.stdout).toBe('ok\nHello, world!\n');
  });

  it('has the root a user expects', async () => {
    const rootfs = join(bundle, 'rootfs');
    expect(((await stat(join(rootfs, 'tmp'))).mode & 0o7777).toString(8)).toBe('1777');
    expect(await readlink(join(rootfs, 'bin/sh'))).toMatch(/^\/nix\/store\/[a-z0-9]{32}-busybox[^/]*\/bin\/sh$/);
    expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toContain('nobody:x:65534');
    const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { env: string[]; args: string[] } };
    expect(config.process.env.some((line) => line.startsWith('PATH=') && line.includes('/bin'))).toBe(true);
  });

  it('serves an image config naming the packages, with a shell as command', async () => {
    const layout = join(work, 'layout');
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifestDigest = index.manifests[0]?.digest ?? '';
    const blob = (digest: string) => readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8');
    const manifest = JSON.parse(await blob(manifestDigest)) as { config: { digest: string }; layers: unknown[] };
    const config = JSON.parse(await blob(manifest.config.digest)) as {
      created: string;
      config: { Cmd: string[]; Labels: Record<string, string> };
      history: Array<{ comment: string }>;
      rootfs: { diff_ids: string[] };
    };
    expect(config.config.Cmd).toEqual(['/bin/sh']);
    expect(config.config.Labels['dev.stowage.packages']).toBe('busybox hello');
    expect(config.created).toBe('1970-01-01T00:00:01Z');
    expect(config.rootfs.diff_ids).toHaveLength(manifest.layers.length);
    expect(config.history).toHaveLength(manifest.layers.length);
    expect(config.history.some((entry) => entry.comment.includes('-hello-'))).toBe(true);
  });
});
