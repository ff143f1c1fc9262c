import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { run, skopeoPull } from '../support/commands.js';
import { basicAuth } from '../support/raw-http.js';
import { startDockerEngine, type DockerEngine } from '../support/docker-engine.js';
import { startContainerd, type Containerd } from '../support/containerd.js';
import { createPodman, type Podman } from '../support/podman.js';

/**
 * Issue 14 point 1: the Docker token flow with the default settings (anonymous pulls on). The
 * `/v2/` ping challenges with Bearer, so `docker login` checks the password at `/token` and
 * `docker push` works; anonymous pulls keep working; with anonymous pulls off, containerd pulls
 * with credentials as a Kubernetes node does with an imagePullSecret.
 */
describe('Docker token flow', { timeout: 240_000 }, () => {
  let registry: RunningRegistry;
  let docker: DockerEngine;
  beforeAll(async () => {
    const htpasswdFile = await writeHtpasswd();
    [registry, docker] = await Promise.all([startRegistry({ auth: { htpasswdFile } }, { source: await FakePackageSource.create() }), startDockerEngine()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([registry?.close(), docker?.stop()]);
  });

  /** Tokens issued by the OAuth2 form (POST /token), from the registry's metrics. */
  const oauthTokens = async (): Promise<number> => {
    const text = await (await fetch(`${registry.url}/metrics`)).text();
    const row = text.split('\n').find((line) => line.startsWith('stowage_http_requests_total{') && line.includes('route="/token"') && line.includes('method="POST"') && line.includes('status="200"'));
    return row === undefined ? 0 : Number(row.split(' ').pop());
  };

  it('docker login fails with a wrong password and succeeds with the right one', async () => {
    await expect(docker.docker(['login', '--username', TEST_USER, '--password', 'not the password', registry.host], 60_000)).rejects.toThrow(/unauthorized|401|invalid username or password/i);
    const right = await docker.docker(['login', '--username', TEST_USER, '--password', TEST_PASSWORD, registry.host], 60_000);
    expect(right.stdout + right.stderr).toMatch(/Login Succeeded/);
  });

  it('docker pulls anonymously, pushes after login and pulls back what it pushed', async () => {
    const source = `${registry.host}/tool:latest`;
    const target = `${registry.host}/team/dockerapp:1`;
    await docker.docker(['logout', registry.host], 30_000);
    await docker.docker(['pull', source]);
    await docker.docker(['login', '--username', TEST_USER, '--password', TEST_PASSWORD, registry.host], 60_000);
    await docker.docker(['tag', source, target]);
    const posts = await oauthTokens();
    await docker.docker(['push', target]);
    // docker login asked for a refresh token (offline_token=true) and keeps it as its identity
    // token: the push spends it with the OAuth2 form (POST /token, grant_type=refresh_token).
    expect(await oauthTokens()).toBeGreaterThan(posts);
    await docker.docker(['rmi', source, target]);
    await docker.docker(['logout', registry.host], 30_000);
    await docker.docker(['pull', target]);
    expect((await docker.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toContain(`${registry.host}/team/dockerapp:1`);
    const tags = (await (await fetch(`${registry.url}/v2/team/dockerapp/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(['1']);
  });

  it('podman and skopeo still pull anonymously', async () => {
    const podman: Podman = await createPodman();
    try {
      await podman.podman(['pull', '--tls-verify=false', `${registry.host}/tool:latest`]);
      expect((await podman.podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toContain(`${registry.host}/tool:latest`);
    } finally {
      await podman.cleanup();
    }
    const layout = await mkdtemp(join(tmpdir(), 'stowage-token-'));
    await skopeoPull(registry.host, 'tool:latest', layout);
    expect((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/tool:latest`])).stdout).toContain('"Layers"');
  });
});

describe('pulls with credentials when anonymous pulls are off (imagePullSecrets)', { timeout: 120_000 }, () => {
  let registry: RunningRegistry;
  let containerd: Containerd;
  beforeAll(async () => {
    const htpasswdFile = await writeHtpasswd();
    [registry, containerd] = await Promise.all([startRegistry({ auth: { htpasswdFile, anonymousPull: false } }, { source: await FakePackageSource.create() }), startContainerd()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([containerd?.stop(), registry?.close()]);
  });

  it('ctr pulls with --user through a token, and is refused without', async () => {
    const image = `${registry.host}/tool:latest`;
    await expect(containerd.ctr(['images', 'pull', '--plain-http', image], 30_000)).rejects.toThrow(/access denied|insufficient_scope|401/i);
    await containerd.ctr(['images', 'pull', '--plain-http', '--user', `${TEST_USER}:${TEST_PASSWORD}`, image], 60_000);
    expect((await containerd.ctr(['images', 'ls', '-q'])).stdout).toContain(image);
    // With credentials containerd asks the OAuth2 form of the token endpoint (POST /token).
    const metrics = await (await fetch(`${registry.url}/metrics`, { headers: { authorization: basicAuth(TEST_USER, TEST_PASSWORD) } })).text();
    expect(metrics.split('\n').some((row) => row.startsWith('stowage_http_requests_total{') && row.includes('route="/token"') && row.includes('method="POST"') && row.includes('status="200"'))).toBe(true);
    await expect(containerd.ctr(['images', 'pull', '--plain-http', '--user', `${TEST_USER}:wrong`, `${registry.host}/tool:other`], 30_000)).rejects.toThrow();
  });
});
