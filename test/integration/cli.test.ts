import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { stowage } from '../support/stowage-cli.js';
import { run } from '../support/commands.js';

describe('stowage build', () => {
  let work: string;
  let registry: RunningRegistry;
  let built: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-cli-'));
    built = await stowage(['build', 'shell/hello', '--output', join(work, 'layout'), '--data-dir', join(work, 'data')]);
    registry = await startRegistry();
  });

  afterAll(async () => {
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes an OCI image layout with progress as plain lines off a terminal', async () => {
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built.stderr).toContain('x86_64-linux: resolving the closure');
    expect(built.stderr).toMatch(/x86_64-linux: \d+ of \d+ layers done/);
    expect(built.stderr).not.toContain('\r');
    expect(JSON.parse(await readFile(join(work, 'layout/oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await readFile(join(work, 'layout/index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]?.digest).toBe(built.stdout.trim());
    expect(index.manifests[0]?.annotations['org.opencontainers.image.ref.name']).toBe('latest');
  });

  it('produces a layout umoci unpacks, and the image runs', async () => {
    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${join(work, 'layout')}:latest`, bundle]);
    expect((await run('chroot', [join(bundle, 'rootfs'), '/bin/hello'])).stdout).toBe('Hello, world!\n');
  });

  it('has the digests the registry serves for the same image', async () => {
    const response = await fetch(`${registry.url}/v2/shell/hello/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(built.stdout.trim());
    const served = (await response.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const local = JSON.parse(await readFile(join(work, 'layout/blobs/sha256', built.stdout.trim().slice('sha256:'.length)), 'utf8')) as typeof served;
    expect(local.config.digest).toBe(served.config.digest);
    expect(local.layers.map((layer) => layer.digest)).toEqual(served.layers.map((layer) => layer.digest));
    for (const layer of served.layers) {
      const blob = await readFile(join(work, 'layout/blobs/sha256', layer.digest.slice('sha256:'.length)));
      const remote = Buffer.from(await (await fetch(`${registry.url}/v2/shell/hello/blobs/${layer.digest}`)).arrayBuffer());
      expect(blob.equals(remote)).toBe(true);
    }
  });

  it('reuses its cached layers the second time, adding a tag to the same layout', { timeout: 120_000 }, async () => {
    const again = await stowage(['build', 'hello', 'shell', '--output', join(work, 'layout'), '--tag', 'latest', '--data-dir', join(work, 'data')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(built.stdout);
    expect(again.stderr).toContain('found in the cache');
    expect(again.stderr).toContain('wrote 0 blobs');
  });

  it('fails with the reason for an unknown package', { timeout: 120_000 }, async () => {
    const result = await stowage(['build', 'shell/nosuchpackage', '--output', join(work, 'nope'), '--data-dir', join(work, 'data')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nosuchpackage');
  });
});

describe('stowage layers', () => {
  it('prints the layering plan with sizes and store paths, as text and JSON', { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stowage-cli-layers-'));
    try {
      const text = await stowage(['layers', 'shell/jq', '--data-dir', dataDir]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/^jq\/shell:latest for x86_64-linux: \d+ store paths, .+, in \d+ layers plus the top layer \(at most 100 in all\)/);
      expect(text.stdout).toMatch(/\/nix\/store\/[a-z0-9]{32}-jq-1\.7\.1/);
      expect(text.stdout).toMatch(/\/nix\/store\/[a-z0-9]{32}-libjson-1\.0\.0-lib/);
      const json = await stowage(['layers', 'jq', 'shell', '--json', '--data-dir', dataDir]);
      const plan = JSON.parse(json.stdout) as { image: string; plans: Array<{ closurePaths: number; layers: Array<{ paths: string[]; narSize: number }> }> };
      expect(plan.image).toBe('jq/shell');
      const paths = plan.plans[0]?.layers.flatMap((layer) => layer.paths) ?? [];
      expect(paths).toHaveLength(plan.plans[0]?.closurePaths ?? -1);
      expect(plan.plans[0]?.layers.every((layer) => layer.narSize > 0)).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('stowage check-config and usage', () => {
  it('validates the configuration, and lists the commands', { timeout: 120_000 }, async () => {
    const check = await stowage(['check-config'], { STOWAGE_WEB_UI: 'false' });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('"enabled": false');
    const bad = await stowage(['check-config'], { STOWAGE_METRICS: 'maybe' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('STOWAGE_METRICS must be true or false');
    const help = await stowage(['--help']);
    for (const command of ['serve', 'build', 'layers', 'check-config', 'gc']) expect(help.stdout).toContain(`  ${command} `);
  });
});
