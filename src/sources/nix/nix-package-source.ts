import { join } from 'node:path';
import type { ClosureGraph, ImageRequest, PackageSetRevision, PackageSource, PackageSummary, ResolveOptions, StorePathInfo, StoreReader } from '../types.js';
import { BuildFailedError, PackageNotFoundError } from '../errors.js';
import { assertValidAttrPath } from '../attr-path.js';
import { RESOLVE_EXPRESSION } from './resolve-expression.js';
import { runProcess, type RunResult } from './run-process.js';
import { parsePathInfo } from './path-info.js';
import { NixPackageListing } from './package-listing.js';
import { NIX_COMMAND_FLAGS } from './nix-command-flags.js';
import { parseNixBuildLine } from './nix-progress.js';
import type { PackageSetAt, PackageSetRevisions } from './package-set-revisions.js';
import { LruMap } from '../../cache/lru-map.js';
import { abortable } from '../abortable.js';
import { EvaluationGate } from './evaluation-gate.js';

export interface NixPackageSourceOptions {
  /** The package set at each revision: a path (only `latest`) or a git repository. */
  readonly packageSets: PackageSetRevisions;
  /** Directory of the Nix commands; empty = found on PATH. */
  readonly nixBinDir: string;
  /** Environment for every Nix command (NIX_CONF_DIR, XDG_CACHE_HOME, NIX_PATH, PATH, ...). */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly reader: StoreReader;
  /** Called once per Nix command run, for metrics and for tests proving a cache hit runs none. */
  readonly onNixCommand?: (command: string) => void;
}

const LISTING_CONCURRENCY = 2;
const LISTING_WAITING = 8;

/** The tag that names the current state of a path package set. */
export const LATEST_REVISION = 'latest';

/**
 * Resolves package lists by evaluating a Nix package set and realising the outputs with the
 * local Nix installation:
 *   1. nix-instantiate --eval: which names are missing, which output paths the rest have;
 *   2. nix-store --check-validity: skip building when every output is already in the store;
 *   3. nix-build: realise the outputs (build or substitute);
 *   4. nix path-info -r: the closure with sizes and references.
 */
export class NixPackageSource implements PackageSource {
  readonly name = 'nix';
  readonly reader: StoreReader;
  /** Listings per package-set path: one for a path set, one per recent commit for git. */
  private readonly listings = new LruMap<string, NixPackageListing>(8);
  /** Listing and sizing evaluations at once, and waiting (builds are bounded by the build queue). */
  private readonly listingGate = new EvaluationGate(LISTING_CONCURRENCY, LISTING_WAITING);

  constructor(private readonly options: NixPackageSourceOptions) {
    this.reader = options.reader;
  }

  async revisions(signal?: AbortSignal): Promise<string[]> {
    return this.options.packageSets.revisions(signal);
  }

  async listPackages({ revision, system }: PackageSetRevision, { signal }: ResolveOptions): Promise<PackageSummary[]> {
    // The listing's evaluation is shared and outlives a caller that gives up: the tree is held
    // until it ends, not until this caller leaves.
    const listed = this.using(await this.options.packageSets.locate(revision, signal), (at) => this.listingOf(at).packages(system, new AbortController().signal));
    return abortable(listed, signal);
  }

  async closureSizes({ revision, system }: PackageSetRevision, packages: readonly string[], { signal }: ResolveOptions): Promise<Record<string, number | null>> {
    return this.using(await this.options.packageSets.locate(revision, signal), (at) => this.listingOf(at).closureSizes(system, packages, signal));
  }

  async cacheKey(request: ImageRequest, signal?: AbortSignal): Promise<string | null> {
    return `nix:${await this.options.packageSets.key(request.revision, signal)}`;
  }

  async resolve(request: ImageRequest, { signal, cacheKey, onProgress }: ResolveOptions): Promise<ClosureGraph> {
    for (const name of request.packages) assertValidAttrPath(name);
    const report = onProgress ?? (() => undefined);
    const pinned = cacheKey?.startsWith('nix:') ? cacheKey.slice('nix:'.length) : undefined;
    return this.using(await this.options.packageSets.locate(request.revision, signal, pinned), (at) => this.resolveAt(request, at, report, signal));
  }

  /** Nix reads the package set only while evaluating: the tree is held until then. */
  private async using<T>(at: PackageSetAt, work: (at: PackageSetAt) => Promise<T>): Promise<T> {
    try {
      return await work(at);
    } finally {
      await at.release?.();
    }
  }

  private async resolveAt(request: ImageRequest, at: PackageSetAt, report: NonNullable<ResolveOptions['onProgress']>, signal: AbortSignal | undefined): Promise<ClosureGraph> {
    const args = this.expressionArgs(request, at);

    report({ kind: 'log', text: `evaluating ${request.packages.join(' ')} in the package set` });
    const evaluated = parseEvalResult(
      await this.runChecked('nix-instantiate', ['--eval', '--strict', '--json', '-E', RESOLVE_EXPRESSION, ...args, '--argstr', 'mode', 'eval'], 'evaluating the package set', signal),
    );
    if (evaluated.missing.length > 0) throw new PackageNotFoundError(evaluated.missing);

    const packageRoots: Record<string, readonly string[]> = {};
    for (const name of request.packages) packageRoots[name] = evaluated.packages[name] ?? [];
    const roots = [...new Set(request.packages.flatMap((name) => packageRoots[name] ?? []))];

    const invalid = await this.runChecked('nix-store', ['--check-validity', '--print-invalid', ...roots], 'checking the store', signal);
    const missingOutputs = invalid.split('\n').filter((line) => line.trim() !== '').length;
    if (missingOutputs > 0) {
      report({ kind: 'log', text: `${missingOutputs} of ${roots.length} outputs are not in the store: realising them with nix-build` });
      const onLine = (line: string): void => {
        const event = parseNixBuildLine(line);
        if (event) report(event);
      };
      await this.runChecked('nix-build', ['--no-out-link', '-E', RESOLVE_EXPRESSION, ...args, '--argstr', 'mode', 'build'], 'building the packages', signal, onLine);
    } else {
      report({ kind: 'log', text: `all ${roots.length} outputs are already in the store` });
    }
    const pathInfo = await this.runChecked('nix', [...NIX_COMMAND_FLAGS, 'path-info', '--json', '--recursive', ...roots], 'reading the closure', signal);
    const paths: StorePathInfo[] = parsePathInfo(pathInfo);
    return { paths, roots, packageRoots };
  }

  private listingOf(at: PackageSetAt): NixPackageListing {
    let listing = this.listings.get(at.path);
    if (!listing) {
      listing = new NixPackageListing({
        packageSet: at.path,
        run: (command, args, what, signal) => this.listingGate.run(() => this.runChecked(command, args, what, signal), signal),
        fingerprint: (signal) => this.options.packageSets.fingerprint(at.path, signal),
      });
      this.listings.set(at.path, listing);
    }
    return listing;
  }

  private expressionArgs(request: ImageRequest, at: PackageSetAt): string[] {
    return [
      '--argstr', 'packageSet', at.path,
      '--argstr', 'names', request.packages.join(' '),
      '--argstr', 'system', request.system,
    ];
  }

  private async runChecked(command: string, args: readonly string[], what: string, signal: AbortSignal | undefined, onStderrLine?: (line: string) => void): Promise<string> {
    this.options.onNixCommand?.(command);
    const executable = this.options.nixBinDir ? join(this.options.nixBinDir, command) : command;
    let result: RunResult;
    try {
      result = await runProcess(executable, args, {
        env: this.options.env,
        timeoutMs: this.options.timeoutMs,
        signal: signal ?? new AbortController().signal,
        ...(onStderrLine ? { onStderrLine } : {}),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BuildFailedError(`${what} failed: ${command} is not installed`, '');
      }
      throw error;
    }
    if (result.exitCode !== 0) {
      throw new BuildFailedError(`${what} failed (${command} exited with ${result.exitCode})`, cleanLog(result.stderrTail));
    }
    return result.stdout;
  }
}

interface EvalResult {
  readonly missing: string[];
  readonly packages: Record<string, string[]>;
}

function parseEvalResult(stdout: string): EvalResult {
  const parsed: unknown = JSON.parse(stdout);
  if (typeof parsed !== 'object' || parsed === null) throw new BuildFailedError('unexpected output from nix-instantiate', stdout.slice(0, 500));
  const { missing, packages } = parsed as { missing?: unknown; packages?: unknown };
  const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (!isStringArray(missing) || typeof packages !== 'object' || packages === null) {
    throw new BuildFailedError('unexpected output from nix-instantiate', stdout.slice(0, 500));
  }
  const result: Record<string, string[]> = {};
  for (const [name, outputs] of Object.entries(packages)) {
    if (!isStringArray(outputs)) throw new BuildFailedError('unexpected output from nix-instantiate', stdout.slice(0, 500));
    result[name] = outputs;
  }
  return { missing, packages: result };
}

/** Keep the last lines of a Nix log, without terminal colour codes. */
function cleanLog(text: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  return plain.split('\n').slice(-40).join('\n').trim();
}
