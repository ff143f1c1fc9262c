import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitRepository, isGitRepositoryRoot, processGitRunner, type GitRunner } from '../../../../src/sources/git/git-repository.js';
import { run } from '../../../support/commands.js';

const ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } as Record<string, string>;

describe('GitRepository on a local work tree', () => {
  let work: string;
  let repo: string;
  let calls: string[][];
  let runner: GitRunner;

  const git = async (...args: string[]) => (await run('git', args, { cwd: repo, env: ENV })).stdout.trim();

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-git-unit-'));
    repo = join(work, 'repo');
    await run('git', ['init', '--quiet', '--initial-branch', 'main', repo], { env: ENV });
    await writeFile(join(repo, 'default.nix'), '{ }: { }\n');
    await git('add', 'default.nix');
    await git('commit', '--quiet', '-m', 'one');
    await git('tag', '-a', 'v1', '-m', 'annotated');
    calls = [];
    const real = processGitRunner({ git: 'git', env: ENV, timeoutMs: 30_000 });
    runner = (args, options) => {
      calls.push([...args]);
      return real(args, options);
    };
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('lists branches and peeled tags, and finds HEAD and abbreviated commits', async () => {
    const head = await git('rev-parse', 'HEAD');
    const repository = new GitRepository({ location: repo, cacheDir: join(work, 'cache'), run: runner });
    const listing = await repository.listRefs(AbortSignal.timeout(10_000));
    expect(listing.head).toBe(head);
    expect(listing.refs).toEqual([
      { name: 'main', kind: 'branch', commit: head },
      { name: 'v1', kind: 'tag', commit: head },
    ]);
    expect(await repository.findCommit(head.slice(0, 8), AbortSignal.timeout(10_000))).toBe(head);
    expect(await repository.findCommit('0000000', AbortSignal.timeout(10_000))).toBeNull();
    expect(await isGitRepositoryRoot(repo)).toBe(true);
    expect(await isGitRepositoryRoot(work)).toBe(false);
  });

  it('exports a commit once, without touching the work tree or its index', async () => {
    const head = await git('rev-parse', 'HEAD');
    await writeFile(join(repo, 'default.nix'), 'uncommitted\n');
    const repository = new GitRepository({ location: repo, cacheDir: join(work, 'cache'), run: runner });
    const [tree, again] = await Promise.all([repository.exportTree(head, AbortSignal.timeout(10_000)), repository.exportTree(head, AbortSignal.timeout(10_000))]);
    expect(tree).toBe(join(work, 'cache', 'trees', head));
    expect(again).toBe(tree);
    expect(await readFile(join(tree, 'default.nix'), 'utf8')).toBe('{ }: { }\n');
    expect(await readdir(join(work, 'cache', 'trees'))).toEqual([head]);
    expect(await git('status', '--porcelain')).toBe('M default.nix');
    expect(calls.filter((args) => args.includes('read-tree'))).toHaveLength(1);
    await repository.exportTree(head, AbortSignal.timeout(10_000));
    expect(calls.filter((args) => args.includes('read-tree'))).toHaveLength(1);
  });

  it('refuses anything but a full commit id as a tree to export', async () => {
    const repository = new GitRepository({ location: repo, cacheDir: join(work, 'cache'), run: runner });
    await expect(repository.exportTree('--help', AbortSignal.timeout(10_000))).rejects.toThrow('not a full commit id');
    expect(calls).toEqual([]);
  });
});
