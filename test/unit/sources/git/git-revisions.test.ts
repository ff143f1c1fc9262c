import { describe, expect, it } from 'vitest';
import { GitRevisions, type GitRefSource } from '../../../../src/sources/git/git-revisions.js';
import type { GitRef, GitRefListing } from '../../../../src/sources/git/git-repository.js';
import { RevisionNotFoundError } from '../../../../src/sources/errors.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = `c0ffee${'1'.repeat(34)}`;

/** A repository whose refs the test moves; counts listings and commit lookups. */
class FakeRepository implements GitRefSource {
  head: string | null = A;
  refs: GitRef[] = [
    { name: 'main', kind: 'branch', commit: A },
    { name: 'v1', kind: 'tag', commit: A },
  ];
  readonly commits = new Set([A, B, C]);
  listings = 0;
  lookups: string[] = [];

  async listRefs(): Promise<GitRefListing> {
    this.listings += 1;
    return { head: this.head, refs: [...this.refs] };
  }

  async findCommit(revision: string): Promise<string | null> {
    this.lookups.push(revision);
    return [...this.commits].find((commit) => commit.startsWith(revision)) ?? null;
  }
}

function setup(refreshMs = 1000) {
  const repository = new FakeRepository();
  let time = 0;
  const revisions = new GitRevisions(repository, { refreshMs, now: () => time });
  return { repository, revisions, advance: (ms: number) => (time += ms) };
}

async function rejection(promise: Promise<unknown>): Promise<RevisionNotFoundError> {
  const error = await promise.then(() => null, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(RevisionNotFoundError);
  return error as RevisionNotFoundError;
}

describe('GitRevisions', () => {
  it('resolves latest to HEAD, branches and tags to their commits, and commit ids to commits', async () => {
    const { revisions } = setup();
    expect(await revisions.resolve('latest')).toBe(A);
    expect(await revisions.resolve('main')).toBe(A);
    expect(await revisions.resolve('v1')).toBe(A);
    expect(await revisions.resolve(B)).toBe(B);
    expect(await revisions.resolve('c0ffee1')).toBe(C);
  });

  it('lists latest, then branches and tags whose names a tag can hold', async () => {
    const { repository, revisions } = setup();
    repository.refs.push({ name: 'feature/x', kind: 'branch', commit: B }, { name: 'latest', kind: 'branch', commit: B });
    expect(await revisions.revisions()).toEqual(['latest', 'main', 'v1']);
  });

  it('re-reads branches only after the refresh interval', async () => {
    const { repository, revisions, advance } = setup(1000);
    expect(await revisions.resolve('main')).toBe(A);
    repository.refs = [{ name: 'main', kind: 'branch', commit: B }];
    repository.head = B;
    advance(999);
    expect(await revisions.resolve('main')).toBe(A);
    expect(await revisions.resolve('latest')).toBe(A);
    expect(repository.listings).toBe(1);
    advance(1);
    expect(await revisions.resolve('main')).toBe(B);
    expect(await revisions.resolve('latest')).toBe(B);
    expect(repository.listings).toBe(2);
  });

  it('looks a commit id up once and remembers it', async () => {
    const { repository, revisions, advance } = setup(10);
    expect(await revisions.resolve('c0ffee1')).toBe(C);
    advance(100);
    expect(await revisions.resolve('c0ffee1')).toBe(C);
    expect(repository.lookups).toEqual(['c0ffee1']);
  });

  it('takes a tag over a branch of the same name, as git does', async () => {
    const { repository, revisions } = setup();
    repository.refs = [{ name: 'x', kind: 'branch', commit: A }, { name: 'x', kind: 'tag', commit: B }];
    expect(await revisions.resolve('x')).toBe(B);
  });

  it('names an unknown revision and the known ones, and never asks git about invalid names', async () => {
    const { repository, revisions } = setup();
    const unknown = await rejection(revisions.resolve('nope'));
    expect(unknown.revision).toBe('nope');
    expect(unknown.known).toEqual(['latest', 'main', 'v1', 'a commit id']);
    expect(unknown.message).toContain('"nope"');
    await rejection(revisions.resolve('deadbee'));
    for (const bad of ['-main', 'main..x', 'HEAD~1', 'main@{1}', 'x.lock']) await rejection(revisions.resolve(bad));
    expect(repository.lookups).toEqual(['deadbee']);
  });

  it('asks git about an unknown commit id again only after the refs are re-read', async () => {
    const { repository, revisions, advance } = setup(1000);
    await rejection(revisions.resolve('deadbee'));
    await rejection(revisions.resolve('deadbee'));
    expect(repository.lookups).toEqual(['deadbee']);
    repository.commits.add(`deadbee${'0'.repeat(33)}`);
    advance(1000);
    expect(await revisions.resolve('deadbee')).toBe(`deadbee${'0'.repeat(33)}`);
    expect(repository.lookups).toEqual(['deadbee', 'deadbee']);
  });

  it('does not take another ref that rev-parse would find for a hex name', async () => {
    const { repository, revisions } = setup();
    repository.findCommit = async (revision: string) => (repository.lookups.push(revision), B);
    await rejection(revisions.resolve('abcdef0'));
  });

  it('has no latest in an empty repository', async () => {
    const { repository, revisions } = setup();
    repository.head = null;
    repository.refs = [];
    expect(await revisions.revisions()).toEqual([]);
    await rejection(revisions.resolve('latest'));
  });

  it('keeps the last listing for another interval when reading the refs fails', async () => {
    const { repository, revisions, advance } = setup(1000);
    expect(await revisions.resolve('main')).toBe(A);
    repository.listRefs = async () => {
      repository.listings += 1;
      throw new Error('remote unreachable');
    };
    advance(1000);
    expect(await revisions.resolve('main')).toBe(A);
    expect(await revisions.resolve('main')).toBe(A);
    expect(repository.listings).toBe(2);
  });

  it('fails when the very first listing fails', async () => {
    const { repository, revisions } = setup();
    repository.listRefs = async () => {
      throw new Error('remote unreachable');
    };
    await expect(revisions.resolve('main')).rejects.toThrow('remote unreachable');
  });

  it('shares one listing between concurrent callers', async () => {
    const { repository, revisions } = setup();
    await Promise.all([revisions.resolve('main'), revisions.resolve('v1'), revisions.revisions()]);
    expect(repository.listings).toBe(1);
  });
});
