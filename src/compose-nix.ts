import { resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { PackageSource } from './sources/types.js';
import { NixPackageSource } from './sources/nix/nix-package-source.js';
import { PackageSetFingerprint } from './sources/nix/package-set-fingerprint.js';
import { GitPackageSet, PathPackageSet, type PackageSetRevisions } from './sources/nix/package-set-revisions.js';
import { GitRepository, isGitRepositoryRoot, processGitRunner } from './sources/git/git-repository.js';
import { GitRevisions } from './sources/git/git-revisions.js';
import { prepareNixEnvironment } from './sources/nix/nix-environment.js';
import { runProcess } from './sources/nix/run-process.js';
import { LocalStoreReader } from './sources/local-store-reader.js';
import type { SourceDeps } from './compose-sources.js';

/**
 * The Nix package source of the composition root: a package set on disk (or on NIX_PATH),
 * or a git repository whose commits, branches and tags are the tags.
 */

export async function createNixSource(config: Config, dataDir: string, deps: SourceDeps): Promise<PackageSource> {
  const env = await prepareNixEnvironment(
    {
      dir: resolve(dataDir, 'nix'),
      useSystemConfig: config.source.useSystemConfig,
      substituters: config.source.substituters,
      trustedPublicKeys: config.source.trustedPublicKeys,
    },
    deps.env ?? {},
  );
  const packageSet = /^<.+>$/.test(config.source.packageSet) ? config.source.packageSet : resolve(config.source.packageSet);
  const nixBin = (command: string): string => (config.source.nixBinDir ? resolve(config.source.nixBinDir, command) : command);
  const fingerprint = new PackageSetFingerprint({
    packageSet,
    ttlMs: 10_000,
    resolveLookup: async (name, signal) => {
      deps.onNixCommand?.('nix-instantiate');
      const result = await runProcess(nixBin('nix-instantiate'), ['--find-file', name], {
        env,
        timeoutMs: 30_000,
        signal: signal ?? new AbortController().signal,
      });
      if (result.exitCode !== 0) throw new Error(`cannot find <${name}> on NIX_PATH: ${result.stderrTail.trim()}`);
      return result.stdout.trim();
    },
  });
  const packageSets = (await usesGit(config))
    ? gitPackageSet(config, dataDir, env, deps)
    : new PathPackageSet(packageSet, fingerprint);
  return new NixPackageSource({
    packageSets,
    nixBinDir: config.source.nixBinDir,
    env,
    timeoutMs: config.source.timeoutMs,
    reader: new LocalStoreReader(),
    ...(deps.onNixCommand ? { onNixCommand: deps.onNixCommand } : {}),
  });
}

const GIT_URL = /^(file|https?|ssh):\/\//;

async function usesGit(config: Config): Promise<boolean> {
  const { packageSetType, packageSet } = config.source;
  if (packageSetType !== 'auto') return packageSetType === 'git';
  return GIT_URL.test(packageSet) || (!/^<.+>$/.test(packageSet) && (await isGitRepositoryRoot(resolve(packageSet))));
}

/** Branches, tags and commits of a git repository; trees exported under the data directory. */
function gitPackageSet(config: Config, dataDir: string, env: Readonly<Record<string, string>>, deps: SourceDeps): PackageSetRevisions {
  const location = GIT_URL.test(config.source.packageSet) ? config.source.packageSet : resolve(config.source.packageSet);
  const repository = new GitRepository({
    location,
    cacheDir: resolve(dataDir, 'git'),
    run: processGitRunner({ git: 'git', env, timeoutMs: config.source.timeoutMs }),
  });
  const revisions = new GitRevisions(repository, { refreshMs: config.source.gitRefreshMs, ...(deps.now ? { now: deps.now } : {}) });
  return new GitPackageSet(repository, revisions);
}
