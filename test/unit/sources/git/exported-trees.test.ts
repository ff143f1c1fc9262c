import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitRepository, processGitRunner } from '../../../../src/sources/git/git-repository.js';
import { run } from '../../../support/commands.js';

const ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } as Record<string, string>;

/**
 * A tag may name any commit of a package-set repository, and each one asked for is exported as
 * a whole checkout: clients naming old commits one after another must not fill the disk. The
 * trees kept are bounded, trees in use (leased, by this process or another) are never removed.
 */
describe('exported trees are bounded', () => {
  let work: string;
  let repo: string;
  const commits: string[] = [];
  const git = async (...args: string[]) => (await run('git', args, { cwd: repo, env: ENV })).stdout.trim();
  const trees = async () => (await readdir(join(work, 'cache', 'trees'))).filter((name) => !name.startsWith('.')).sort();
  const signal = () => AbortSignal.timeout(10_000);

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-trees-'));
    repo = join(work, 'repo');
    await run('git', ['init', '--quiet', '--initial-branch', 'main', repo], { env: ENV });
    commits.length = 0;
    for (const n of [1, 2, 3]) {
      await writeFile(join(repo, 'default.nix'), `{ }: { n = ${n}; }\n`);
      await git('add', 'default.nix');
      await git('commit', '--quiet', '-m', `commit ${n}`);
      commits.push(await git('rev-parse', 'HEAD'));
    }
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('keeps at most maxTrees trees besides those in use, least recently used going first', async () => {
    const [one, two, three] = commits as [string, string, string];
    const repository = new GitRepository({ location: repo, cacheDir: join(work, 'cache'), run: processGitRunner({ git: 'git', env: ENV, timeoutMs: 30_000 }), maxTrees: 1 });
    const held = await repository.useTree(one, signal());
    await (await repository.useTree(two, signal())).release();
    // Both were in use when `two` was exported: nothing could go.
    expect(await trees()).toEqual([one, two].sort());
    await (await repository.useTree(three, signal())).release();
    // `one` is held; `two`, used least recently and free, went.
    expect(await trees()).toEqual([one, three].sort());
    expect(await readFile(join(held.path, 'default.nix'), 'utf8')).toBe('{ }: { n = 1; }\n');

    await held.release();
    const again = await repository.useTree(two, signal());
    expect(await readFile(join(again.path, 'default.nix'), 'utf8')).toBe('{ }: { n = 2; }\n');
    expect(await trees()).toEqual([two]);
    await again.release();
  });

  it('counts a lease only while the process holding it runs', async () => {
    const [one, two] = commits as [string, string];
    const repository = new GitRepository({ location: repo, cacheDir: join(work, 'cache'), run: processGitRunner({ git: 'git', env: ENV, timeoutMs: 30_000 }), maxTrees: 1 });
    await (await repository.useTree(one, signal())).release();
    // A lease another process left behind when it died, and one a running process holds.
    const gone = spawnSync('true');
    await writeFile(join(work, 'cache', 'trees', `.lease-${one}-${gone.pid}-abc`), '');
    await (await repository.useTree(two, signal())).release();
    expect(await trees()).toEqual([two]);
    expect((await readdir(join(work, 'cache', 'trees'))).filter((name) => name.startsWith('.'))).toEqual([]);

    await writeFile(join(work, 'cache', 'trees', `.lease-${two}-${process.ppid}-abc`), '');
    await (await repository.useTree(one, signal())).release();
    expect(await trees()).toEqual([one, two].sort());
  });
});
