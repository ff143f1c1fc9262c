import { createPrivateKey, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCatalogEntry } from '../../src/sources/catalog/catalog-document.js';
import { generateCatalog, type GeneratedCatalog } from '../../src/sources/catalog/generate-catalog.js';
import { run } from './commands.js';
import { EXAMPLE_PACKAGE_SET } from './registry-server.js';

export const EXAMPLE_REVISION = '2024-01';
export const SYSTEM = 'x86_64-linux';

let environment: Promise<Record<string, string>> | undefined;

/** An environment for running Nix offline as root with a nix.conf of the tests' own. */
export function nixEnv(): Promise<Record<string, string>> {
  environment ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-nixconf-'));
    await mkdir(join(dir, 'cache'));
    await writeFile(
      join(dir, 'nix.conf'),
      'build-users-group =\nsubstituters =\ntrusted-substituters =\nexperimental-features = nix-command\nsandbox = true\n',
    );
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    return { ...env, NIX_CONF_DIR: dir, NIX_USER_CONF_FILES: join(dir, 'nix.conf'), XDG_CACHE_HOME: join(dir, 'cache') };
  })();
  return environment;
}

let generated: Promise<GeneratedCatalog> | undefined;

/** Every package of the example set, built (once per test file) and described for a catalog. */
export function exampleCatalog(): Promise<GeneratedCatalog> {
  generated ??= nixEnv().then((env) =>
    generateCatalog({ packageSet: EXAMPLE_PACKAGE_SET, system: SYSTEM, attrs: [], build: true, nixBinDir: '', env, timeoutMs: 600_000, signal: AbortSignal.timeout(600_000) }),
  );
  return generated;
}

/** The runtime closure of store paths (`nix-store -qR`), sorted. */
export async function closureOf(paths: readonly string[]): Promise<string[]> {
  const { stdout } = await run('nix-store', ['-qR', ...paths], { env: await nixEnv() });
  return stdout.split('\n').filter(Boolean).sort();
}

export interface ExampleCache {
  readonly dir: string;
  /** `file://<dir>` */
  readonly url: string;
  readonly publicKey: string;
  readonly secretKeyFile: string;
  /** A catalog of the whole example set at {@link EXAMPLE_REVISION} (alias `latest` when asked). */
  readonly catalogFile: string;
  readonly catalog: GeneratedCatalog;
  cleanup(): Promise<void>;
}

/**
 * A real binary cache of the whole example set, made by Nix: a fresh signing key, `nix store
 * sign -r`, `nix copy --to file://DIR?compression=...`; plus its catalog.
 */
export async function makeExampleCache(options: { compression: 'xz' | 'zstd' | 'bzip2' | 'none'; listings?: boolean; alias?: boolean }): Promise<ExampleCache> {
  const env = await nixEnv();
  const catalog = await exampleCatalog();
  const dir = await mkdtemp(join(tmpdir(), `stowage-cache-${options.compression}-`));
  const keys = await mkdtemp(join(tmpdir(), 'stowage-keys-'));
  const secretKeyFile = join(keys, 'secret.key');
  await writeFile(secretKeyFile, (await run('nix', ['key', 'generate-secret', '--key-name', `stowage-test-${options.compression}`], { env })).stdout);
  const publicKey = (await run('bash', ['-c', `nix key convert-secret-to-public < '${secretKeyFile}'`], { env })).stdout.trim();
  const outputs = [...new Set(Object.values(catalog.packages).flatMap((pkg) => Object.values(pkg.outputs)))];
  await run('nix', ['store', 'sign', '--key-file', secretKeyFile, '--recursive', ...outputs], { env });
  const url = `file://${dir}?compression=${options.compression}${options.listings ? '&write-nar-listing=true' : ''}`;
  await run('nix', ['copy', '--to', url, ...outputs], { env, timeoutMs: 300_000 });
  const catalogFile = join(keys, 'catalog.json');
  await writeCatalogEntry(catalogFile, { revision: EXAMPLE_REVISION, system: SYSTEM, packages: catalog.packages, ...(options.alias ? { aliases: ['latest'] } : {}) });
  return {
    dir,
    url: `file://${dir}`,
    publicKey,
    secretKeyFile,
    catalogFile,
    catalog,
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
      await rm(keys, { recursive: true, force: true });
    },
  };
}

/** Re-sign a narinfo text with a Nix secret key file, as `nix store sign` would (replacing its Sig lines). */
export async function resignNarInfo(text: string, secretKeyFile: string): Promise<string> {
  const [name, encoded] = (await readFile(secretKeyFile, 'utf8')).trim().split(':') as [string, string];
  const bytes = Buffer.from(encoded, 'base64');
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: bytes.subarray(0, 32).toString('base64url'), x: bytes.subarray(32).toString('base64url') }, format: 'jwk' });
  const field = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(text)?.[1] ?? '';
  const references = field('References').split(' ').filter(Boolean).map((ref) => `/nix/store/${ref}`).join(',');
  const fingerprint = `1;${field('StorePath')};${field('NarHash')};${field('NarSize')};${references}`;
  const signature = sign(null, Buffer.from(fingerprint), key).toString('base64');
  return `${text.replace(/^Sig: .*\n?/gm, '').trimEnd()}\nSig: ${name}:${signature}\n`;
}
