import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { run, skopeoPull } from '../support/commands.js';
import { startContainerd, type Containerd } from '../support/containerd.js';
import { createPodman, type Podman } from '../support/podman.js';
import { blobFiles } from '../support/oci-layout.js';

const CREDS = `${TEST_USER}:${TEST_PASSWORD}`;

/** Pushing with the clients teams use, then pulling what they pushed. */
describe('pushing with real clients', { timeout: 120_000 }, () => {
  let registry: RunningRegistry;
  let work: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd() } });
    work = await mkdtemp(join(tmpdir(), 'stowage-push-'));
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('skopeo copies an OCI layout in and back byte-identically', async () => {
    const original = join(work, 'original');
    await skopeoPull(registry.host, 'shell/hello:latest', original);
    await run('skopeo', [
      '--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', CREDS,
      `oci:${original}:x`, `docker://${registry.host}/team/app:1.0`,
    ]);
    const back = join(work, 'back');
    await skopeoPull(registry.host, 'team/app:1.0', back);
    const [before, after] = [await blobFiles(original), await blobFiles(back)];
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [digest, bytes] of before) expect(after.get(digest)?.equals(bytes), digest).toBe(true);
    const tags = await fetch(`${registry.url}/v2/team/app/tags/list`).then((response) => response.json());
    expect(tags).toEqual({ name: 'team/app', tags: ['1.0'] });
  });

  it('refuses a push without credentials and stores nothing', async () => {
    await expect(
      run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${join(work, 'original')}:x`, `docker://${registry.host}/team/anonymous:1`]),
    ).rejects.toThrow(/unauthorized|authentication required/i);
    const response = await fetch(`${registry.url}/v2/team/anonymous/tags/list`);
    expect(response.status).toBe(404);
  });

  describe('podman', () => {
    let podman: Podman;
    beforeAll(async () => {
      podman = await createPodman();
    });
    afterAll(async () => {
      await podman?.cleanup();
    });

    it('pushes and pulls back an image that runs', async () => {
      const source = `${registry.host}/shell/hello`;
      const target = `${registry.host}/team/podapp:2`;
      await podman.podman(['pull', '--tls-verify=false', source]);
      await podman.podman(['tag', source, target]);
      await podman.podman(['push', '--tls-verify=false', '--creds', CREDS, target]);
      await podman.podman(['rmi', '--force', source, target]);
      await podman.podman(['pull', '--tls-verify=false', target]);
      expect((await podman.runImage(target, ['hello'])).stdout).toBe('Hello, world!\n');
    });
  });

  describe('containerd', () => {
    let containerd: Containerd;
    beforeAll(async () => {
      containerd = await startContainerd();
    });
    afterAll(async () => {
      await containerd?.stop();
    });

    it('pushes with ctr, then pulls and runs what it pushed', async () => {
      const source = `${registry.host}/shell/hello:latest`;
      const target = `${registry.host}/team/ctrapp:3`;
      await containerd.ctr(['images', 'pull', '--plain-http', source]);
      await containerd.ctr(['images', 'tag', source, target]);
      await containerd.ctr(['images', 'push', '--plain-http', '--user', CREDS, target]);
      await containerd.ctr(['images', 'rm', source, target]);
      await containerd.ctr(['images', 'pull', '--plain-http', target]);
      const result = await containerd.ctr(['run', '--rm', target, `p-${process.pid}`, 'sh', '-c', 'echo ok; hello']);
      expect(result.stdout).toBe('ok\nHello, world!\n');
    });
  });
});
