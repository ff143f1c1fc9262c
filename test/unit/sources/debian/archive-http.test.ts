import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveHttpClient } from '../../../../src/sources/debian/archive/archive-http.js';
import { DebianArchiveError, DebianArchiveUnavailableError } from '../../../../src/sources/debian/errors.js';
import { startFakeArchive, type FakeArchive } from '../../../support/debian-archive-fixtures.js';

describe('archive HTTP client', () => {
  let archive: FakeArchive;
  const sleeps: number[] = [];
  const client = (options: ConstructorParameters<typeof ArchiveHttpClient>[1] = {}): ArchiveHttpClient =>
    new ArchiveHttpClient(archive.url, {
      retries: 2,
      backoffMs: 100,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...options,
    });

  beforeAll(async () => {
    archive = await startFakeArchive();
    archive.files.set('dists/x/InRelease', Buffer.from('hello'));
  });
  afterAll(() => archive.close());

  it('reads a file, and answers null for 404', async () => {
    expect((await client().get('dists/x/InRelease'))?.toString()).toBe('hello');
    expect(await client().get('dists/none/InRelease')).toBeNull();
  });

  it('retries transient answers with doubling backoff, then names the archive', async () => {
    sleeps.length = 0;
    archive.failures.set('dists/x/InRelease', 503);
    archive.requests.clear();
    const error = await client().get('dists/x/InRelease').catch((e: unknown) => e);
    archive.failures.delete('dists/x/InRelease');
    expect(error).toBeInstanceOf(DebianArchiveUnavailableError);
    expect((error as Error).message).toContain(archive.url);
    expect((error as Error).message).toMatch(/answered 503 \(after 3 attempts\)/);
    expect(archive.requests.get('dists/x/InRelease')).toBe(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it('does not retry permanent refusals', async () => {
    archive.failures.set('dists/x/InRelease', 403);
    archive.requests.clear();
    const error = await client().get('dists/x/InRelease').catch((e: unknown) => e);
    archive.failures.delete('dists/x/InRelease');
    expect(error).toBeInstanceOf(DebianArchiveError);
    expect(error).not.toBeInstanceOf(DebianArchiveUnavailableError);
    expect(archive.requests.get('dists/x/InRelease')).toBe(1);
  });

  it('refuses bodies over the limit', async () => {
    await expect(client({ maxBytes: 3 }).get('dists/x/InRelease')).rejects.toThrow(/larger than 3 bytes/);
  });

  it('times out a stalled attempt and retries it', async () => {
    let calls = 0;
    const stalled: typeof fetch = (_url, init) => {
      calls++;
      return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const error = await client({ fetch: stalled, timeoutMs: 20, retries: 1 }).get('dists/x/InRelease').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DebianArchiveUnavailableError);
    expect((error as Error).message).toMatch(/timed out after 20 ms/);
    expect(calls).toBe(2);
  });

  it('reports an unreachable archive as unavailable', async () => {
    const gone = await startFakeArchive();
    await gone.close();
    const closed = new ArchiveHttpClient(gone.url, { retries: 1, backoffMs: 1, sleep: async () => undefined });
    const error = await closed.get('dists/x/InRelease').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DebianArchiveUnavailableError);
    expect((error as Error).message).toBe(`Debian archive ${gone.url} is unavailable: dists/x/InRelease: ECONNREFUSED (after 2 attempts)`);
  });

  it('stops at once when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    await expect(client().get('dists/x/InRelease', controller.signal)).rejects.toThrow('client went away');
  });
});
