import { join } from 'node:path';
import { BuildFailedError } from '../errors.js';
import { runProcess } from '../nix/run-process.js';
import { CATALOG_EXPRESSION } from './catalog-expression.js';
import type { CatalogPackage } from './catalog.js';
import { NIX_COMMAND_FLAGS } from '../nix/nix-command-flags.js';

export interface GenerateCatalogOptions {
  /** Absolute path of the package set, or `<nixpkgs>`. */
  readonly packageSet: string;
  /** Nix system; empty = the machine's. */
  readonly system: string;
  /** Attribute paths; empty = every derivation (top level and `recurseForDerivations` sets). */
  readonly attrs: readonly string[];
  /** Realise every output (build or substitute) after evaluating. */
  readonly build: boolean;
  /** Sign the outputs' closures with this secret key file before copying (`nix store sign`). */
  readonly signKeyFile?: string;
  /** Copy the outputs' closures to this binary cache (`nix copy --to`). */
  readonly copyTo?: string;
  /** Directory of the Nix commands; empty = PATH. */
  readonly nixBinDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Progress messages. */
  readonly log?: (message: string) => void;
}

export interface GeneratedCatalog {
  readonly system: string;
  readonly packages: Record<string, CatalogPackage>;
  /** Attributes that do not evaluate (skipped with `--all`; an error when named). */
  readonly failed: readonly string[];
  /** Named attributes that are not derivations in the package set. */
  readonly missing: readonly string[];
}

/**
 * Evaluate a package set with Nix and describe each package for a catalog (outputs with their
 * store paths, outputs to install, version, description); then, as asked, realise the outputs,
 * sign them and copy their closures to a binary cache. The catalog is only useful once its
 * store paths are in the cache the catalog source reads.
 * @throws BuildFailedError when a Nix command fails.
 */
export async function generateCatalog(options: GenerateCatalogOptions): Promise<GeneratedCatalog> {
  const args = ['--argstr', 'packageSet', options.packageSet, '--argstr', 'system', options.system, '--argstr', 'attrs', options.attrs.join(' ')];
  options.log?.(`evaluating ${options.attrs.length > 0 ? `${options.attrs.length} attributes` : 'every package'} of ${options.packageSet}`);
  const stdout = await nix(options, 'nix-instantiate', ['--eval', '--strict', '--json', '-E', CATALOG_EXPRESSION, ...args, '--argstr', 'mode', 'eval'], 'evaluating the package set');
  const evaluated = parseEvaluation(stdout);
  const outputs = [...new Set(Object.values(evaluated.packages).flatMap((pkg) => Object.values(pkg.outputs)))].sort();
  if (options.build && outputs.length > 0) {
    options.log?.(`realising ${outputs.length} outputs`);
    await nix(options, 'nix-build', ['--no-out-link', '-E', CATALOG_EXPRESSION, ...args, '--argstr', 'mode', 'build'], 'building the packages');
  }
  if (options.signKeyFile && outputs.length > 0) {
    options.log?.('signing the closures');
    await nix(options, 'nix', ['store', 'sign', '--key-file', options.signKeyFile, '--recursive', ...outputs], 'signing the store paths');
  }
  if (options.copyTo && outputs.length > 0) {
    options.log?.(`copying the closures to ${options.copyTo.replace(/\?.*$/, '')}`);
    await nix(options, 'nix', ['copy', '--to', options.copyTo, ...outputs], 'copying to the binary cache');
  }
  return evaluated;
}

function parseEvaluation(stdout: string): GeneratedCatalog {
  const parsed = JSON.parse(stdout) as { system?: unknown; missing?: unknown; failed?: unknown; packages?: unknown };
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  if (typeof parsed.system !== 'string' || typeof parsed.packages !== 'object' || parsed.packages === null) {
    throw new BuildFailedError('unexpected output from nix-instantiate', stdout.slice(0, 500));
  }
  const packages: Record<string, CatalogPackage> = {};
  for (const [name, raw] of Object.entries(parsed.packages as Record<string, CatalogPackage>)) {
    const install = raw.install ?? ['out'];
    packages[name] = {
      outputs: raw.outputs,
      ...(install.length === 1 && install[0] === 'out' ? {} : { install }),
      ...(raw.version ? { version: raw.version } : {}),
      ...(raw.description ? { description: raw.description } : {}),
    };
  }
  return { system: parsed.system, packages, failed: strings(parsed.failed), missing: strings(parsed.missing) };
}

async function nix(options: GenerateCatalogOptions, command: string, args: readonly string[], what: string): Promise<string> {
  const executable = options.nixBinDir ? join(options.nixBinDir, command) : command;
  let result;
  try {
    result = await runProcess(executable, command === 'nix' ? [...NIX_COMMAND_FLAGS, ...args] : args, { env: options.env, timeoutMs: options.timeoutMs, signal: options.signal });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BuildFailedError(`${what} failed: ${command} is not installed`, '');
    throw error;
  }
  if (result.exitCode !== 0) {
    throw new BuildFailedError(`${what} failed (${command} exited with ${result.exitCode})`, result.stderrTail.split('\n').slice(-30).join('\n').trim());
  }
  return result.stdout;
}
