import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stowage } from '../support/stowage-cli.js';
import { run } from '../support/commands.js';
import { REPO_ROOT } from '../support/registry-server.js';

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stowage-cli-commands-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('every subcommand answers --help', () => {
  it('prints its usage and exits 0 without doing its work (serve starts no server)', { timeout: 120_000 }, async () => {
    const commands = [['serve'], ['check-config'], ['build'], ['layers'], ['popularity'], ['gc'], ['catalog'], ['catalog', 'generate'], ['catalog', 'check'], ['catalog', 'import-nix-env']];
    const results = await Promise.all(commands.map((command) => stowage([...command, '--help'], { STOWAGE_PORT: '1' })));
    results.forEach((result, index) => {
      const name = (commands[index] as string[]).join(' ');
      expect({ name, code: result.code }).toEqual({ name, code: 0 });
      expect(result.stdout, name).toMatch(new RegExp(`^usage: stowage ${(commands[index] as string[])[0]}`));
      expect(result.stderr, name).not.toContain('stowage is serving');
    });
  });
});

describe('the container entrypoint', () => {
  it('runs the subcommand it is given, also after the program name (`docker run IMAGE stowage gc`)', { timeout: 120_000 }, async () => {
    const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/cli.js"]');
    for (const args of [['gc', '--dry-run', '--json'], ['stowage', 'gc', '--dry-run', '--json']]) {
      const result = await stowage([...args, '--data-dir', join(work, 'data')]);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ dryRun: true, blobs: 0, deleted: [] });
    }
  });
});

describe('stowage catalog generate on a Nix with default settings', () => {
  it('signs closures although the nix-command feature is off in nix.conf', { timeout: 240_000 }, async () => {
    // A nix.conf as a fresh offline root installation needs it, without experimental features.
    const confDir = join(work, 'nix-conf');
    await run('mkdir', ['-p', confDir, join(work, 'cache')]);
    await writeFile(join(confDir, 'nix.conf'), 'build-users-group =\nsubstituters =\ntrusted-substituters =\nsandbox = true\n');
    const env = { NIX_CONF_DIR: confDir, NIX_USER_CONF_FILES: join(confDir, 'nix.conf'), XDG_CACHE_HOME: join(work, 'cache') };
    // The key pair the README makes, with the command that needs no experimental feature.
    const secret = join(work, 'cache.sec');
    await run('nix-store', ['--generate-binary-cache-key', 'stowage-test-1', secret, join(work, 'cache.pub')], { env: { ...process.env, ...env } });
    const featureOff = await run('nix', ['path-info'], { env: { ...process.env, ...env } }).then(() => 'on', (error: Error) => error.message);
    expect(featureOff).toContain("experimental Nix feature 'nix-command' is disabled");

    const output = join(work, 'catalog.json');
    const result = await stowage(['catalog', 'generate', '--revision', 'r1', '--attrs', 'hello', '--sign-key', secret, '--output', output], env);
    expect(result.code, result.stderr).toBe(0);
    type Catalog = { revisions: Record<string, { systems: Record<string, Record<string, { outputs: Record<string, string> }>> }> };
    const catalog = JSON.parse(await readFile(output, 'utf8')) as Catalog;
    const outPath = catalog.revisions.r1?.systems['x86_64-linux']?.hello?.outputs.out as string;
    const info = await run('nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--sigs', outPath], { env: { ...process.env, ...env } });
    expect(info.stdout).toContain('stowage-test-1:');
  });
});
