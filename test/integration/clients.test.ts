import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { startContainerd, type Containerd } from '../support/containerd.js';
import { createPodman, type Podman } from '../support/podman.js';
import { run } from '../support/commands.js';

/** The clients users meet stowage through, each against a real registry on loopback. */
describe('real clients', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.close();
  });

  describe('containerd (what Kubernetes nodes run)', () => {
    let containerd: Containerd;
    beforeAll(async () => {
      containerd = await startContainerd();
    });
    afterAll(async () => {
      await containerd?.stop();
    });

    it('pulls with one HEAD-then-GET build and runs the image', async () => {
      const image = `${registry.host}/shell/hello/cowsay:latest`;
      const before = registry.nixCommands.filter((command) => command === 'nix-instantiate').length;
      await containerd.ctr(['images', 'pull', '--plain-http', image]);
      expect(registry.nixCommands.filter((command) => command === 'nix-instantiate').length - before).toBe(1);
      const result = await containerd.ctr(['run', '--rm', image, `t-${process.pid}`, 'sh', '-c', 'echo ok; hello; id nobody']);
      expect(result.stdout).toContain('ok\nHello, world!\n');
      expect(result.stdout).toContain('uid=65534(nobody)');
    });

    it('pulls and runs an image with zstd layers', async () => {
      const image = `${registry.host}/zstd/shell/hello:latest`;
      await containerd.ctr(['images', 'pull', '--plain-http', image]);
      const result = await containerd.ctr(['run', '--rm', image, `z-${process.pid}`, 'hello']);
      expect(result.stdout).toBe('Hello, world!\n');
    });
  });

  describe('podman', () => {
    let podman: Podman;
    beforeAll(async () => {
      podman = await createPodman();
    });
    afterAll(async () => {
      await podman?.cleanup();
    });

    it('pulls and runs, with the environment users expect', async () => {
      const image = `${registry.host}/shell/hello`;
      await podman.podman(['pull', '--tls-verify=false', image]);
      const result = await podman.runImage(image, ['sh', '-c', 'echo ok && hello && env && ls -ld /tmp']);
      expect(result.stdout).toMatch(/^ok\nHello, world!\n/);
      expect(result.stdout).toMatch(/^PATH=.*\/bin/m);
      expect(result.stdout).toMatch(/^drwxrwxrwt/m);
    });

    it('pulls and runs an image with zstd layers', async () => {
      const image = `${registry.host}/zstd/shell/hello`;
      await podman.podman(['pull', '--tls-verify=false', image]);
      expect((await podman.runImage(image, ['hello'])).stdout).toBe('Hello, world!\n');
    });

    it('points SSL_CERT_FILE and /etc/ssl/certs at the CA bundle in the closure', async () => {
      const image = `${registry.host}/cacert/shell`;
      await podman.podman(['pull', '--tls-verify=false', image]);
      const result = await podman.runImage(image, ['sh', '-c', 'echo "$SSL_CERT_FILE"; grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-bundle.crt']);
      expect(result.stdout).toMatch(/^\/nix\/store\/[a-z0-9]{32}-cacert-[^/]+\/etc\/ssl\/certs\/ca-bundle\.crt\n12\n$/);
    });
  });

  describe('docker CLI', () => {
    it('inspects the manifest', async () => {
      const result = await run('docker', ['manifest', 'inspect', '--insecure', `${registry.host}/shell/hello:latest`]);
      const manifest = JSON.parse(result.stdout) as { schemaVersion: number; layers?: unknown[]; manifests?: unknown[] };
      expect(manifest.schemaVersion).toBe(2);
      expect((manifest.layers ?? manifest.manifests ?? []).length).toBeGreaterThan(0);
    });
  });

  describe('skopeo', () => {
    it('inspects the image config', async () => {
      const result = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/shell/hello:latest`]);
      const info = JSON.parse(result.stdout) as { Architecture: string; Os: string; Labels: Record<string, string> };
      expect(info).toMatchObject({ Architecture: 'amd64', Os: 'linux' });
      expect(info.Labels['dev.stowage.packages']).toBe('busybox hello');
    });
  });
});
