import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { createPodman, type Podman } from '../support/podman.js';
import { startContainerd, type Containerd } from '../support/containerd.js';
import { startDockerEngine, type DockerEngine } from '../support/docker-engine.js';

/**
 * A first pull whose build takes about 70 s (longer than the old 50 s wait and than common
 * client idle timeouts) succeeds with default settings in docker, podman and containerd: the
 * registry holds each manifest request open until the build is done. The three pull at once,
 * so they share the one build.
 */
let registry: RegistryState;
interface RegistryState {
  readonly server: RunningRegistry;
  readonly packageSet: string;
  readonly podman: Podman;
  readonly containerd: Containerd;
  readonly docker: DockerEngine;
}

beforeAll(async () => {
  const packageSet = await mkdtemp(join(tmpdir(), 'stowage-slow-pkgs-'));
  await copyFile(join(REPO_ROOT, 'test/fixtures/slow-pkgs/default.nix'), join(packageSet, 'default.nix'));
  await writeFile(join(packageSet, 'nonce.nix'), `"${randomUUID()}"\n`);
  const [server, podman, containerd, docker] = await Promise.all([
    startRegistry({ source: { packageSet } }),
    createPodman(),
    startContainerd(),
    startDockerEngine(),
  ]);
  registry = { server, packageSet, podman, containerd, docker };
}, 120_000);

afterAll(async () => {
  if (!registry) return;
  await Promise.allSettled([registry.server.close(), registry.podman.cleanup(), registry.containerd.stop(), registry.docker.stop()]);
  await rm(registry.packageSet, { recursive: true, force: true });
});

describe('a first pull of a slow build', () => {
  it('succeeds in podman, containerd and docker with default settings', async () => {
    const { server, podman, containerd, docker } = registry;
    const image = `${server.host}/slow:latest`;
    const results = await Promise.allSettled([
      podman.podman(['pull', '--tls-verify=false', image], 240_000),
      containerd.ctr(['images', 'pull', '--plain-http', image], 240_000),
      docker.docker(['pull', image], 240_000),
    ]);
    const failures = results.flatMap((result, index) => (result.status === 'rejected' ? [`${['podman', 'ctr', 'docker'][index]}: ${String(result.reason)}`] : []));
    expect(failures).toEqual([]);
    // One build served all three, and each client has the image.
    expect(server.nixCommands.filter((command) => command === 'nix-build')).toEqual(['nix-build']);
    expect((await podman.podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toContain(`${server.host}/slow:latest`);
    expect((await containerd.ctr(['images', 'ls', '-q'])).stdout).toContain(image);
    expect((await docker.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toContain(`${server.host}/slow:latest`);
  }, 300_000);
});
