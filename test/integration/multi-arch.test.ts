import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { run } from '../support/commands.js';

/**
 * Platform selection by real clients from stowage's image index. Nix here cannot build for
 * aarch64, so the source is a fake serving the same store paths for both systems; what is under
 * test is the index and each client's choice from it.
 */
describe('multi-arch index with real clients', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    const source = await FakePackageSource.create();
    registry = await startRegistry({ source: { systems: ['x86_64-linux', 'aarch64-linux'], shellPackages: ['minishell'] } }, { source });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('lets skopeo pick each platform', async () => {
    const inspect = async (arch: string) =>
      JSON.parse((await run('skopeo', ['--override-arch', arch, 'inspect', '--tls-verify=false', `docker://${registry.host}/shell/tool:latest`])).stdout) as {
        Architecture: string;
        Digest: string;
      };
    const amd64 = await inspect('amd64');
    const arm64 = await inspect('arm64');
    expect(amd64.Architecture).toBe('amd64');
    expect(arm64.Architecture).toBe('arm64');
    // Digest is the index's: the same image name, whatever the platform.
    expect(arm64.Digest).toBe(amd64.Digest);
  });

  it('shows docker a manifest list', async () => {
    const result = await run('docker', ['manifest', 'inspect', '--insecure', `${registry.host}/shell/tool:latest`]);
    const list = JSON.parse(result.stdout) as { mediaType: string; manifests: Array<{ platform: { architecture: string } }> };
    expect(list.manifests.map((entry) => entry.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
  });
});
