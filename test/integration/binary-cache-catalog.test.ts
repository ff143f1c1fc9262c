import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalogDocument } from '../../src/sources/catalog/catalog.js';
import { nixEnv } from '../support/binary-cache.js';
import { run } from '../support/commands.js';
import { EXAMPLE_PACKAGE_SET, REPO_ROOT } from '../support/registry-server.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `stowage catalog ...` as a user runs it: a separate process, Nix from PATH. */
function stowage(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'catalog', ...args], { cwd: REPO_ROOT, env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('stowage catalog', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let publicKey: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-catalog-cli-'));
    env = await nixEnv();
    await writeFile(join(work, 'secret.key'), (await run('nix', ['key', 'generate-secret', '--key-name', 'catalog-cli-1'], { env })).stdout);
    publicKey = (await run('bash', ['-c', `nix key convert-secret-to-public < '${join(work, 'secret.key')}'`], { env })).stdout.trim();
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('generates a catalog, signs and copies the closures, and checks them', async () => {
    const output = join(work, 'catalog.json');
    const cache = `file://${join(work, 'cache')}?compression=zstd`;
    const generated = await stowage(
      ['generate', '--package-set', EXAMPLE_PACKAGE_SET, '--revision', 'r1', '--system', 'x86_64-linux', '--attrs', 'hello,busybox,libjson', '--output', output, '--sign-key', join(work, 'secret.key'), '--copy-to', cache, '--alias', 'latest', '--description', 'examples'],
      env,
    );
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toContain('wrote 3 packages for r1 (x86_64-linux)');
    const document = parseCatalogDocument(await readFile(output, 'utf8'), output);
    const packages = document.revisions.r1?.systems['x86_64-linux'] ?? {};
    expect(Object.keys(packages)).toEqual(['busybox', 'hello', 'libjson']);
    expect(Object.keys(packages.libjson?.outputs ?? {}).sort()).toEqual(['dev', 'lib', 'out']);
    expect(document.aliases).toEqual({ latest: 'r1' });
    expect(document.revisions.r1?.description).toBe('examples');

    const again = await stowage(['generate', '--package-set', EXAMPLE_PACKAGE_SET, '--revision', 'r2', '--system', 'x86_64-linux', '--attrs', 'cowsay', '--output', output, '--no-build'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(Object.keys(parseCatalogDocument(await readFile(output, 'utf8'), output).revisions)).toEqual(['r1', 'r2']);

    const checked = await stowage(['check', '--catalog', output, '--cache', `file://${join(work, 'cache')}`, '--public-key', publicKey, '--revision', 'r1'], env);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/3 packages, \d+ store paths checked .*: 0 problems/);
    const untrusted = await stowage(['check', '--catalog', output, '--cache', `file://${join(work, 'cache')}`, '--public-key', 'other-1:SPvrWWYSvBcSNfVWku4jdNC/UbNPPj51xRmcxdQWY+4=', '--revision', 'r1'], env);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toContain('no signature by a trusted key');
  }, 300_000);

  it('refuses unknown attributes and bad arguments', async () => {
    const missing = await stowage(['generate', '--package-set', EXAMPLE_PACKAGE_SET, '--revision', 'r1', '--attrs', 'hello,nosuch', '--output', join(work, 'x.json'), '--no-build'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not derivations in the package set: nosuch');
    const usage = await stowage(['generate', '--revision', 'bad tag', '--all'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('not a valid image tag');
    expect((await stowage(['frobnicate'], env)).code).toBe(2);
  }, 120_000);

  it('imports nix-env -qaP --json --out-path --meta output (the nixpkgs route)', async () => {
    const json = (await run('nix-env', ['-f', EXAMPLE_PACKAGE_SET, '-qaP', '--json', '--out-path', '--meta'], { env })).stdout;
    await writeFile(join(work, 'nix-env.json'), json);
    const output = join(work, 'imported.json');
    const imported = await stowage(['import-nix-env', '--input', join(work, 'nix-env.json'), '--revision', 'n1', '--system', 'x86_64-linux', '--output', output], env);
    expect(imported.code, imported.stderr).toBe(0);
    const packages = parseCatalogDocument(await readFile(output, 'utf8'), output).revisions.n1?.systems['x86_64-linux'] ?? {};
    expect(Object.keys(packages)).toContain('greeter');
    expect(Object.keys(packages.libjson?.outputs ?? {}).sort()).toEqual(['dev', 'lib', 'out']);
  }, 120_000);
});
