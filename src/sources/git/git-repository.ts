import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildFailedError } from '../errors.js';
import { runProcess } from '../nix/run-process.js';
import { ExportedTrees, type TreeLease } from './exported-trees.js';

/**
 * Runs `git` with an argv array (never a shell) and returns its stdout.
 * @throws BuildFailedError when git exits non-zero (`logTail` holds its stderr).
 */
export type GitRunner = (args: readonly string[], options: { readonly signal: AbortSignal; readonly env?: Readonly<Record<string, string>> }) => Promise<string>;

export interface GitRunnerOptions {
  /** The git executable; `git` = found on PATH. */
  readonly git: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export function processGitRunner(options: GitRunnerOptions): GitRunner {
  return async (args, { signal, env }) => {
    // Never ask for credentials on a terminal: a server has none to answer.
    const result = await runProcess(options.git, args, { env: { ...options.env, ...env, GIT_TERMINAL_PROMPT: '0' }, timeoutMs: options.timeoutMs, signal }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BuildFailedError(`git is not installed (${options.git})`, '');
      throw error;
    });
    if (result.exitCode !== 0) throw new BuildFailedError(`git ${args.find((arg) => !arg.startsWith('-')) ?? ''} failed (exit ${result.exitCode})`, result.stderrTail.trim());
    return result.stdout;
  };
}

export interface GitRef {
  /** Short name (`main`, `v1.0`). */
  readonly name: string;
  readonly kind: 'branch' | 'tag';
  /** The commit it points at (annotated tags peeled). */
  readonly commit: string;
}

export interface GitRefListing {
  /** The commit HEAD (the default branch) points at; null in an empty repository. */
  readonly head: string | null;
  readonly refs: readonly GitRef[];
}

/**
 * A git repository holding a package set: a local repository (work tree or bare), used in
 * place and only read, or a `file://`/`https://` URL mirrored into `cacheDir/mirror.git` and
 * fetched each time the refs are listed. Commits are exported into `cacheDir/trees/<commit>`
 * and kept while in use or among the `maxTrees` used last (exported-trees.ts): a commit's tree
 * never changes, but any commit may be asked for.
 */
export class GitRepository {
  private gitDir: Promise<string> | undefined;
  private readonly exports = new Map<string, Promise<string>>();
  private readonly trees: ExportedTrees;

  constructor(
    private readonly options: {
      /** A local path, or a `file://`, `http(s)://` or `ssh://` URL. */
      readonly location: string;
      readonly cacheDir: string;
      readonly run: GitRunner;
      /** Exported trees kept besides those in use (default DEFAULT_MAX_TREES). */
      readonly maxTrees?: number;
    },
  ) {
    this.trees = new ExportedTrees(join(options.cacheDir, 'trees'), options.maxTrees);
  }

  get isRemote(): boolean {
    return /^(file|https?|ssh):\/\//.test(this.options.location);
  }

  /** Branches and tags (fetching a remote first), and where HEAD points. */
  async listRefs(signal: AbortSignal): Promise<GitRefListing> {
    const gitDir = await this.open(signal);
    if (this.isRemote) await this.git(gitDir, ['fetch', '--quiet', '--prune', '--no-write-fetch-head', 'origin'], signal);
    const listing = await this.git(gitDir, ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(*objectname)', 'refs/heads', 'refs/tags'], signal);
    const refs: GitRef[] = [];
    for (const line of listing.split('\n')) {
      const [refname, objectname, peeled] = line.split('\0');
      if (!refname || !objectname) continue;
      const commit = peeled !== undefined && peeled !== '' ? peeled : objectname;
      if (refname.startsWith('refs/heads/')) refs.push({ name: refname.slice('refs/heads/'.length), kind: 'branch', commit });
      else if (refname.startsWith('refs/tags/')) refs.push({ name: refname.slice('refs/tags/'.length), kind: 'tag', commit });
    }
    return { head: await this.findCommit('HEAD', signal), refs };
  }

  /**
   * The full id of the commit `revision` names, or null. Callers pass only `HEAD` or a validated
   * hex prefix; `--end-of-options` keeps even those from being read as options.
   */
  async findCommit(revision: string, signal: AbortSignal): Promise<string | null> {
    const gitDir = await this.open(signal);
    try {
      const out = (await this.git(gitDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`], signal)).trim();
      return /^[0-9a-f]{40,64}$/.test(out) ? out : null;
    } catch (error) {
      if (error instanceof BuildFailedError) return null;
      throw error;
    }
  }

  /**
   * The tree of `commit` (a full id), exported if it is not, held in use until the lease is
   * released: no eviction removes it meanwhile, in this process or another sharing the cache.
   */
  async useTree(commit: string, signal: AbortSignal): Promise<TreeLease> {
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`not a full commit id: ${commit}`);
    const lease = await this.trees.lease(commit);
    try {
      await this.exportTree(commit, signal);
      await this.trees.touch(commit);
    } catch (error) {
      await lease.release();
      throw error;
    }
    return lease;
  }

  /**
   * A directory holding the files of `commit` (a full id), exported once: into a fresh
   * directory with an index of its own (the repository's index and work tree are never
   * touched), then renamed into place, so a partial export is never seen.
   */
  async exportTree(commit: string, signal: AbortSignal): Promise<string> {
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`not a full commit id: ${commit}`);
    const target = this.trees.pathOf(commit);
    let pending = this.exports.get(commit);
    if (!pending) {
      // Not tied to one caller's signal: concurrent callers share it.
      pending = this.export(commit, target, new AbortController().signal).finally(() => this.exports.delete(commit));
      this.exports.set(commit, pending);
    }
    signal.throwIfAborted();
    return pending;
  }

  private async export(commit: string, target: string, signal: AbortSignal): Promise<string> {
    if (await exists(target)) return target;
    const gitDir = await this.open(signal);
    const staging = join(this.options.cacheDir, 'trees', `.staging-${commit}-${randomBytes(6).toString('hex')}`);
    const tree = join(staging, 'tree');
    await mkdir(tree, { recursive: true });
    try {
      const env = { GIT_INDEX_FILE: join(staging, 'index') };
      await this.options.run(['--git-dir', gitDir, '--work-tree', tree, 'read-tree', '--end-of-options', commit], { signal, env });
      await this.options.run(['--git-dir', gitDir, '--work-tree', tree, 'checkout-index', '--all', '--force'], { signal, env });
      try {
        await rename(tree, target);
      } catch (error) {
        // Another process exported the same commit first: its tree is as good as ours.
        if (!(await exists(target))) throw error;
      }
      // One more tree on disk: the bound applies (trees in use, this one's included, stay).
      await this.trees.touch(commit);
      await this.trees.evict().catch(() => undefined);
      return target;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private open(signal: AbortSignal): Promise<string> {
    this.gitDir ??= this.locate(signal);
    this.gitDir.catch(() => (this.gitDir = undefined));
    return this.gitDir;
  }

  private async locate(signal: AbortSignal): Promise<string> {
    if (!this.isRemote) {
      const out = await this.options.run(['-C', this.options.location, 'rev-parse', '--absolute-git-dir'], { signal });
      return out.trim();
    }
    const name = createHash('sha256').update(this.options.location).digest('hex').slice(0, 16);
    const mirror = join(this.options.cacheDir, `mirror-${name}.git`);
    if (await exists(mirror)) return mirror;
    const staging = `${mirror}.staging-${randomBytes(6).toString('hex')}`;
    await mkdir(this.options.cacheDir, { recursive: true });
    try {
      await this.options.run(['clone', '--mirror', '--quiet', '--', this.options.location, staging], { signal });
      await rename(staging, mirror).catch(async (error: unknown) => {
        if (!(await exists(mirror))) throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return mirror;
  }

  private git(gitDir: string, args: readonly string[], signal: AbortSignal): Promise<string> {
    return this.options.run(['--git-dir', gitDir, ...args], { signal });
  }
}

/** True for the top directory of a git work tree (it holds `.git`) or of a bare repository. */
export async function isGitRepositoryRoot(path: string): Promise<boolean> {
  if (await exists(join(path, '.git'))) return true;
  return (await exists(join(path, 'HEAD'))) && (await exists(join(path, 'objects'))) && (await exists(join(path, 'refs')));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
