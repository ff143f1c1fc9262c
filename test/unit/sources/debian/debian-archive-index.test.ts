import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AptSource } from '../../../../src/sources/debian/archive/apt-sources.js';
import { DebianArchiveIndex, type DebianArchiveIndexOptions } from '../../../../src/sources/debian/archive/debian-archive-index.js';
import { defaultRevisions, revisionMapOf } from '../../../../src/sources/debian/archive/revisions.js';
import { DebianArchitectureError, DebianArchiveUnavailableError } from '../../../../src/sources/debian/errors.js';
import { RevisionNotFoundError } from '../../../../src/sources/errors.js';
import { publishSuite, stanza, type FakeArchive, type TestSigningKey } from '../../../support/debian-archive-fixtures.js';
import { startSignedArchive, type SignedArchive } from '../../../support/debian-test-archive.js';

describe('Debian archive index provider', () => {
  let key: TestSigningKey;
  let archive: FakeArchive;
  let dir: string;
  let clock = 0;
  const refreshErrors: string[] = [];
  const sources = (): AptSource[] => [
    { uri: archive.url, suites: ['stable', 'stable-updates', 'stable-backports'], components: ['main'], signedBy: key.keyring, architectures: [], origin: 't' },
    { uri: archive.url, suites: ['stable-security'], components: ['main'], signedBy: key.keyring, architectures: [], origin: 't' },
  ];
  const provider = (options: Partial<DebianArchiveIndexOptions> = {}): DebianArchiveIndex =>
    new DebianArchiveIndex({
      sources: sources(),
      cacheDir: dir,
      refreshIntervalMs: 1000,
      retryAfterFailureMs: 100,
      now: () => new Date(Date.parse('2026-07-12T00:00:00Z') + clock),
      http: { retries: 0 },
      onRefreshError: ({ suite, error }) => refreshErrors.push(`${suite}: ${error.message}`),
      ...options,
    });

  let signed: SignedArchive;
  beforeAll(async () => {
    signed = await startSignedArchive();
    ({ key, archive } = signed);
  });
  afterAll(() => signed.close());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-dai-'));
    clock = 0;
    refreshErrors.length = 0;
    archive.files.clear();
    archive.requests.clear();
    await publishSuite(archive, key, 'stable', [stanza('libc6', '2.36-9'), stanza('curl', '7.88.1-10'), stanza('mawk', '1.3.4', { Provides: 'awk' })].join('\n'));
    await publishSuite(archive, key, 'stable-updates', stanza('tzdata', '2025b-0+deb12u1'));
    await publishSuite(archive, key, 'stable-backports', stanza('curl', '8.14-1~bpo12+1'));
    await publishSuite(archive, key, 'stable-security', [stanza('curl', '7.88.1-10+deb12u12'), stanza('libc6', '2.36-9')].join('\n'));
    return () => rm(dir, { recursive: true, force: true });
  });

  it('derives `latest` (release, updates, security; never backports) and the release tag from the sources', () => {
    expect([...defaultRevisions(sources())]).toEqual([
      ['latest', ['stable', 'stable-updates', 'stable-security']],
      ['stable', ['stable']],
    ]);
    expect(provider().revisions()).toEqual(['latest', 'stable']);
  });

  it('serves the release alone under its name and the highest versions under latest, ties to the earlier suite', async () => {
    const index = provider();
    const release = await index.snapshot('stable', 'amd64');
    expect(release.packages.get('curl')?.map((p) => p.version)).toEqual(['7.88.1-10']);
    expect(release.packages.has('tzdata')).toBe(false);
    const latest = await index.snapshot('latest', 'amd64');
    expect(latest.packages.get('curl')?.map((p) => [p.version, p.suite])).toEqual([['7.88.1-10+deb12u12', 'stable-security'], ['7.88.1-10', 'stable']]);
    expect(latest.packages.get('libc6')?.map((p) => p.suite)).toEqual(['stable']);
    expect(latest.packages.has('tzdata')).toBe(true);
    expect(latest.providers.get('awk')?.map((p) => p.name)).toEqual(['mawk']);
    expect(latest.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(latest.fingerprint).not.toBe(release.fingerprint);
    expect(await index.snapshot('latest', 'amd64')).toBe(latest);
  });

  it('refuses unknown tags and architectures', async () => {
    await expect(provider().snapshot('sid', 'amd64')).rejects.toBeInstanceOf(RevisionNotFoundError);
    await expect(provider().snapshot('stable', 'riscv64')).rejects.toBeInstanceOf(DebianArchitectureError);
    expect(() => provider({ revisions: revisionMapOf({ x: ['nosuch'] }) })).toThrow(/suite "nosuch", which no apt source lists/);
  });

  it('refreshes on the interval by the injected clock; a security update changes the fingerprint', async () => {
    const index = provider();
    const first = await index.snapshot('latest', 'amd64');
    await publishSuite(archive, key, 'stable-security', stanza('curl', '7.88.1-10+deb12u13'), { Date: 'Sun, 12 Jul 2026 10:00:00 UTC' });
    clock = 500;
    expect(await index.snapshot('latest', 'amd64')).toBe(first);
    clock = 1500;
    const second = await index.snapshot('latest', 'amd64');
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(second.packages.get('curl')?.[0]?.version).toBe('7.88.1-10+deb12u13');
    expect(archive.requests.get('dists/stable/main/binary-amd64/Packages.gz')).toBe(1);
  });

  it('keeps serving the last good index when a refresh fails or cannot be verified', async () => {
    const index = provider();
    const first = await index.snapshot('latest', 'amd64');
    archive.failures.set('dists/stable-security/InRelease', 503);
    clock = 1500;
    expect((await index.snapshot('latest', 'amd64')).fingerprint).toBe(first.fingerprint);
    archive.failures.delete('dists/stable-security/InRelease');
    const signed = archive.files.get('dists/stable-security/InRelease') as Buffer;
    archive.files.set('dists/stable-security/InRelease', Buffer.from(signed.toString().replace('Suite: stable-security', 'Suite: stable-securitY')));
    clock = 3000;
    expect((await index.snapshot('latest', 'amd64')).fingerprint).toBe(first.fingerprint);
    expect(refreshErrors).toEqual([
      expect.stringMatching(/^stable-security: Debian archive .* is unavailable: dists\/stable-security\/InRelease: answered 503/),
      expect.stringMatching(/^stable-security: .*refusing dists\/stable-security\/InRelease: bad signature/),
    ]);
  });

  it('shares one fetch between concurrent requests; an aborted request does not cancel it', async () => {
    const index = provider();
    const controller = new AbortController();
    const aborted = index.snapshot('latest', 'amd64', controller.signal).catch((e: unknown) => e);
    controller.abort(new Error('client went away'));
    const [a, b] = await Promise.all([index.snapshot('latest', 'amd64'), index.snapshot('latest', 'amd64')]);
    expect(await aborted).toMatchObject({ message: 'client went away' });
    expect(a).toBe(b);
    for (const suite of ['stable', 'stable-updates', 'stable-security']) expect(archive.requests.get(`dists/${suite}/InRelease`)).toBe(1);
    expect(archive.requests.has('dists/stable-backports/InRelease')).toBe(false);
  });

  it('fails plainly when nothing was ever fetched, and withdraws an index past its Valid-Until', async () => {
    archive.failures.set('dists/stable/InRelease', 503);
    await expect(provider().snapshot('stable', 'amd64')).rejects.toBeInstanceOf(DebianArchiveUnavailableError);
    archive.failures.delete('dists/stable/InRelease');
    await publishSuite(archive, key, 'stable', stanza('curl', '1'), { 'Valid-Until': 'Mon, 13 Jul 2026 00:00:00 UTC' });
    const index = provider({ refreshIntervalMs: 365 * 86400_000 });
    await index.snapshot('stable', 'amd64');
    clock = 2 * 86400_000;
    await expect(index.snapshot('stable', 'amd64')).rejects.toThrow(/expired at 2026-07-13/);
  });
});
