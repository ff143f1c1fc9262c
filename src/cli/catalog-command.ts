import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { BuildFailedError } from '../sources/errors.js';
import { BinaryCache } from '../sources/binary-cache/binary-cache.js';
import { createCacheTransport } from '../sources/binary-cache/create-transport.js';
import { RequestPolicy } from '../sources/binary-cache/request-policy.js';
import { parsePublicKey } from '../sources/binary-cache/signatures.js';
import { CatalogFiles } from '../sources/catalog/catalog-files.js';
import { packagesFromNixEnv, writeCatalogEntry } from '../sources/catalog/catalog-document.js';
import { InvalidCatalogError } from '../sources/catalog/catalog.js';
import { checkCatalog } from '../sources/catalog/check-catalog.js';
import { generateCatalog } from '../sources/catalog/generate-catalog.js';
import { configFileArgument } from './arguments.js';

const USAGE = `usage: stowage catalog <subcommand> [options]

  generate          evaluate a package set with Nix and write its store paths into a catalog
      --revision TAG          revision (the image tag that will select it)         required
      --package-set PATH      package set path or <nixpkgs>                       default: source.packageSet
      --attrs A,B,...         attribute paths to include, or
      --all                   every derivation (top level and recurseForDerivations sets)
      --system SYSTEM         Nix system                                           default: the machine's
      --output FILE           catalog to write (merged into when it exists)         default: catalog.json
      --no-build              only evaluate (the paths must already be in the cache)
      --sign-key FILE         sign the closures with this Nix secret key first
      --copy-to URL           nix copy the closures to this binary cache
      --alias TAG             also point TAG (e.g. latest) at this revision (repeatable)
      --description TEXT      note stored with the revision (e.g. the nixpkgs commit)
      --replace               overwrite FILE instead of merging into it
  import-nix-env    turn \`nix-env -qaP --json --out-path --meta\` output into a catalog
      --input FILE|-          the JSON (- for stdin)                                required
      --revision TAG, --system SYSTEM (required), --output, --alias, --description, --replace
  check             check every catalog package's closure is in the binary cache, signed
      --catalog FILE          catalog (repeatable)                                 default: source.catalogs
      --cache URL             binary cache                                         default: source.binaryCache.url
      --public-key KEY        trusted key (repeatable)              default: source.binaryCache.trustedPublicKeys
      --allow-unsigned        accept narinfos without a trusted signature
      --revision TAG          only this revision

Nix commands run with this process's environment (NIX_CONF_DIR, NIX_PATH, ...); stowage turns on
the experimental nix-command feature for the \`nix\` commands it runs (store sign, copy).
`;

class UsageError extends Error {}

/** `stowage catalog generate|import-nix-env|check ...` (see USAGE). */
export async function catalogCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  // `catalog generate --help` and the like: the usage covers every subcommand.
  if (sub !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    switch (sub) {
      case 'generate':
        return await generate(rest, env);
      case 'import-nix-env':
        return await importNixEnv(rest);
      case 'check':
        return await check(rest, env);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return sub === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown subcommand "${sub}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`stowage catalog: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof BuildFailedError) {
      process.stderr.write(`stowage catalog: ${error.message}\n${error.logTail}\n`);
      return 1;
    }
    if (error instanceof InvalidCatalogError) {
      process.stderr.write(`stowage catalog: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

const ENTRY_OPTIONS = {
  revision: { type: 'string' as const },
  system: { type: 'string' as const, default: '' },
  output: { type: 'string' as const, default: 'catalog.json' },
  alias: { type: 'string' as const, multiple: true as const, default: [] as string[] },
  description: { type: 'string' as const },
  replace: { type: 'boolean' as const, default: false },
  config: { type: 'string' as const },
};

async function generate(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      ...ENTRY_OPTIONS,
      'package-set': { type: 'string' },
      attrs: { type: 'string' },
      all: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'sign-key': { type: 'string' },
      'copy-to': { type: 'string' },
      'nix-bin-dir': { type: 'string' },
      'timeout-ms': { type: 'string', default: String(3_600_000) },
    },
  });
  const revision = requireRevision(values.revision);
  if (values.all === (values.attrs !== undefined)) throw new UsageError('give either --attrs or --all');
  const file = configFileArgument(args, env);
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  const packageSetArg = values['package-set'] ?? config.source.packageSet;
  const packageSet = /^<.+>$/.test(packageSetArg) ? packageSetArg : resolve(packageSetArg);
  const attrs = (values.attrs ?? '').split(',').map((attr) => attr.trim()).filter((attr) => attr !== '');
  const generated = await generateCatalog({
    packageSet,
    system: values.system,
    attrs,
    build: !values['no-build'],
    ...(values['sign-key'] ? { signKeyFile: resolve(values['sign-key']) } : {}),
    ...(values['copy-to'] ? { copyTo: values['copy-to'] } : {}),
    nixBinDir: values['nix-bin-dir'] ?? config.source.nixBinDir,
    env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    timeoutMs: Number(values['timeout-ms']),
    signal: new AbortController().signal,
    log: (message) => process.stderr.write(`stowage catalog: ${message}\n`),
  });
  if (generated.missing.length > 0 || (attrs.length > 0 && generated.failed.length > 0)) {
    const problems = [
      ...(generated.missing.length > 0 ? [`not derivations in the package set: ${generated.missing.join(', ')}`] : []),
      ...(attrs.length > 0 && generated.failed.length > 0 ? [`fail to evaluate: ${generated.failed.join(', ')}`] : []),
    ];
    process.stderr.write(`stowage catalog: ${problems.join('; ')}\n`);
    return 1;
  }
  if (generated.failed.length > 0) process.stderr.write(`stowage catalog: skipped ${generated.failed.length} attributes that fail to evaluate\n`);
  await writeCatalogEntry(resolve(values.output), entryFrom(values, revision, generated.system, generated.packages), { replace: values.replace });
  process.stdout.write(`wrote ${Object.keys(generated.packages).length} packages for ${revision} (${generated.system}) to ${values.output}\n`);
  return 0;
}

async function importNixEnv(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { ...ENTRY_OPTIONS, input: { type: 'string' } } });
  const revision = requireRevision(values.revision);
  if (!values.input) throw new UsageError('--input is required');
  if (!values.system) throw new UsageError('--system is required (nix-env output does not say which system it evaluated for)');
  const text = values.input === '-' ? await readStdin() : await readFile(values.input, 'utf8');
  const { packages, skipped } = packagesFromNixEnv(JSON.parse(text));
  if (skipped.length > 0) process.stderr.write(`stowage catalog: skipped ${skipped.length} entries without output paths (run nix-env with --out-path)\n`);
  await writeCatalogEntry(resolve(values.output), entryFrom(values, revision, values.system, packages), { replace: values.replace });
  process.stdout.write(`wrote ${Object.keys(packages).length} packages for ${revision} (${values.system}) to ${values.output}\n`);
  return 0;
}

async function check(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      catalog: { type: 'string', multiple: true },
      cache: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      'allow-unsigned': { type: 'boolean' },
      revision: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const file = configFileArgument(args, env);
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  const settings = config.source.binaryCache;
  const catalogs = values.catalog ?? config.source.catalogs;
  const url = values.cache ?? settings.url;
  if (catalogs.length === 0) throw new UsageError('no catalog: give --catalog or set source.catalogs');
  if (url === '') throw new UsageError('no binary cache: give --cache or set source.binaryCache.url');
  const transport = createCacheTransport(url);
  const cache = new BinaryCache({
    transport,
    policy: new RequestPolicy({ concurrency: settings.concurrency, retries: settings.retries, timeoutMs: settings.timeoutMs, backoffMs: 250, cache: transport.displayUrl }),
    trustedKeys: (values['public-key'] ?? settings.trustedPublicKeys).map(parsePublicKey),
    allowUnsigned: values['allow-unsigned'] ?? settings.allowUnsigned,
    maxNarSize: settings.maxNarSize,
    narInfoCacheEntries: settings.narInfoCacheEntries,
  });
  const catalog = await new CatalogFiles({ paths: catalogs.map((path) => resolve(path)), ttlMs: 0 }).current();
  const result = await checkCatalog(catalog, cache, { ...(values.revision ? { revision: values.revision } : {}), signal: new AbortController().signal });
  for (const problem of result.problems) {
    process.stdout.write(`${problem.revision} ${problem.system} ${problem.package}: ${problem.message}\n`);
  }
  process.stdout.write(`${result.packages} packages, ${result.storePaths} store paths checked in ${cache.url}: ${result.problems.length} problems\n`);
  return result.problems.length === 0 ? 0 : 1;
}

function requireRevision(revision: string | undefined): string {
  if (!revision) throw new UsageError('--revision is required');
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(revision)) throw new UsageError(`--revision ${JSON.stringify(revision)} is not a valid image tag`);
  return revision;
}

function entryFrom(
  values: { alias: string[]; description?: string | undefined },
  revision: string,
  system: string,
  packages: Parameters<typeof writeCatalogEntry>[1]['packages'],
): Parameters<typeof writeCatalogEntry>[1] {
  return {
    revision,
    system,
    packages,
    ...(values.description !== undefined ? { description: values.description } : {}),
    ...(values.alias.length > 0 ? { aliases: values.alias } : {}),
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
