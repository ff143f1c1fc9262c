import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAptSources, type AptSource } from '../../src/sources/debian/archive/apt-sources.js';
import { ArchiveHttpClient } from '../../src/sources/debian/archive/archive-http.js';
import { DebianArchiveIndex } from '../../src/sources/debian/archive/debian-archive-index.js';
import { IndexCache } from '../../src/sources/debian/archive/index-cache.js';
import { fetchSuiteIndex, type SuiteIndexRequest } from '../../src/sources/debian/archive/suite-index.js';
import { DEFAULT_DEBIAN_KEYRING } from '../../src/sources/debian/archive/gpgv.js';
import { DebianIndexIntegrityError } from '../../src/sources/debian/errors.js';
import { debianNameOf, ociSpellingOf } from '../../src/sources/debian/resolve/name-spelling.js';
import { debianPopularity } from '../../src/sources/debian/resolve/popularity.js';
import { resolveClosure } from '../../src/sources/debian/resolve/resolver.js';
import { SHELL_PACKAGES } from '../../src/sources/debian/resolve/shell-packages.js';
import { compareVersions } from '../../src/sources/debian/resolve/version.js';
import type { DebianIndexSnapshot } from '../../src/sources/debian/types.js';
import { startFakeArchive, type FakeArchive } from '../support/debian-archive-fixtures.js';
import { dpkgCompare, seededRandom } from '../support/dpkg-compare.js';

/**
 * The archive side against Debian's real archive, reached through this machine's apt sources
 * (no host is named here). Indexes are cached in a directory shared by every test of a run,
 * so only the first test file to need bookworm's 9 MB Packages.xz downloads it.
 */
const CACHE = join(tmpdir(), 'stowage-test-debian-cache');

describe('Debian index from the real archive', () => {
  let sources: AptSource[];
  const downloads: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    downloads.push(String(input));
    return fetch(input, init);
  };
  let index: DebianArchiveIndex;
  let release: DebianIndexSnapshot;
  let latest: DebianIndexSnapshot;

  beforeAll(async () => {
    sources = await readAptSources();
    index = new DebianArchiveIndex({ sources, cacheDir: CACHE, http: { fetch: countingFetch } });
    release = await index.snapshot('bookworm', 'amd64');
    latest = await index.snapshot('latest', 'amd64');
  }, 600_000);

  it('serves the tags derived from the apt sources, verified and merged', () => {
    expect(index.revisions()).toEqual(['latest', 'bookworm']);
    expect(index.suitesOf('latest')).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security']);
    expect(release.packages.size).toBeGreaterThan(60_000);
    expect(latest.packages.size).toBeGreaterThanOrEqual(release.packages.size);
    expect(latest.fingerprint).not.toBe(release.fingerprint);
    const git = release.packages.get('git')?.[0];
    expect(git).toMatchObject({ name: 'git', architecture: 'amd64', suite: 'bookworm', filename: expect.stringMatching(/^pool\/main\/g\/git\/git_.*_amd64\.deb$/) });
    expect(git?.archiveUrl).toBe(sources.find((s) => s.suites.includes('bookworm'))?.uri);
    // latest never holds an older version than the release alone.
    for (const [name, candidates] of release.packages) {
      expect(compareVersions((latest.packages.get(name) ?? [])[0]?.version ?? '', candidates[0]?.version ?? '')).toBeGreaterThanOrEqual(0);
    }
  });

  it('resolves git and curl closures of real size, deterministically across fresh providers', async () => {
    const git = resolveClosure(latest, ['git']);
    const curl = resolveClosure(latest, ['curl']);
    expect(git.packages.length).toBeGreaterThanOrEqual(35);
    expect(git.packages.length).toBeLessThanOrEqual(70);
    expect(git.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['git', 'libc6', 'libcurl3-gnutls', 'perl', 'zlib1g']));
    expect(curl.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['curl', 'libcurl4', 'libssl3']));
    expect(git.packages.some((p) => p.essential)).toBe(false);
    const names = [...SHELL_PACKAGES, 'git', 'curl'];
    const first = resolveClosure(latest, names);
    expect(first.packages.filter((p) => p.essential).map((p) => p.name).sort()).toEqual(SHELL_PACKAGES.filter((n) => n !== 'mawk'));

    downloads.length = 0;
    const again = new DebianArchiveIndex({ sources, cacheDir: CACHE, http: { fetch: countingFetch } });
    const second = resolveClosure(await again.snapshot('latest', 'amd64'), [...names].reverse());
    expect(second.packages.map((p) => `${p.name}=${p.version}`)).toEqual(first.packages.map((p) => `${p.name}=${p.version}`));
    expect(second.dependsOn).toEqual(first.dependsOn);
    // The second provider verified fresh InRelease files but took every Packages file from the cache.
    expect(downloads.filter((url) => url.includes('/Packages') || url.includes('/by-hash/'))).toEqual([]);
    expect(downloads.filter((url) => url.endsWith('/InRelease'))).toHaveLength(3);
  }, 300_000);

  it('spells every package name of the real index and round-trips it', () => {
    const unspellable = [...latest.packages.keys()].filter((name) => {
      const spelling = ociSpellingOf(name);
      return spelling === null || debianNameOf(spelling) !== name;
    });
    expect(unspellable).toEqual([]);
    expect(ociSpellingOf('libstdc++6')).toBe('libstdc_p_p6');
    expect(latest.packages.has(debianNameOf('libstdc_p_p6') as string)).toBe(true);
  });

  it('compares versions as dpkg does on random pairs from the real index', async () => {
    const versions = [...new Set([...release.packages.values()].map((c) => c[0]?.version as string))].sort();
    const random = seededRandom(2026);
    const pick = (): string => versions[Math.floor(random() * versions.length)] as string;
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < 400; i++) {
      const a = pick();
      const b = i % 3 === 0 ? (versions[versions.indexOf(a) + 1] ?? pick()) : pick();
      pairs.push([a, b]);
    }
    expect(pairs.map(([a, b]) => compareVersions(a, b))).toEqual(await dpkgCompare(pairs));
  }, 120_000);

  it('computes popularity over the real graph: libc6 near the top, leaves at 1', () => {
    const popularity = debianPopularity(latest);
    expect(popularity.size).toBe(latest.packages.size);
    expect(popularity.get('libc6')).toBeGreaterThan(latest.packages.size / 2);
    expect(popularity.get('libc6') as number).toBeGreaterThan(popularity.get('libcurl4') as number);
    expect(popularity.get('libcurl4') as number).toBeGreaterThan(popularity.get('curl') as number);
    expect(popularity.get('git')).toBeGreaterThanOrEqual(1);
  }, 120_000);

  describe('refusals, served from a loopback copy of the real archive', () => {
    let fake: FakeArchive;
    let dir: string;
    let inRelease: Buffer;
    let packagesXz: Buffer;
    const request = (overrides: Partial<SuiteIndexRequest> = {}): SuiteIndexRequest => ({
      suite: 'bookworm-updates',
      components: ['main'],
      architecture: 'amd64',
      keyrings: [DEFAULT_DEBIAN_KEYRING],
      http: new ArchiveHttpClient(fake.url, { retries: 0 }),
      cache: new IndexCache(dir),
      now: () => new Date(),
      ...overrides,
    });

    beforeAll(async () => {
      const source = sources.find((s) => s.suites.includes('bookworm-updates')) as AptSource;
      const real = new ArchiveHttpClient(source.uri);
      inRelease = (await real.get('dists/bookworm-updates/InRelease')) as Buffer;
      packagesXz = (await real.get('dists/bookworm-updates/main/binary-amd64/Packages.xz')) as Buffer;
      fake = await startFakeArchive();
      dir = await mkdtemp(join(tmpdir(), 'stowage-debian-refusals-'));
    }, 120_000);
    afterAll(async () => {
      await fake?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('accepts the authentic copy', async () => {
      fake.files.set('dists/bookworm-updates/InRelease', inRelease);
      fake.files.set('dists/bookworm-updates/main/binary-amd64/Packages.xz', packagesXz);
      const suite = await fetchSuiteIndex(request({ cache: new IndexCache(join(dir, 'ok')) }));
      expect(suite.packages.length).toBeGreaterThan(0);
    });

    it('refuses an InRelease with one byte of its signed text changed', async () => {
      const text = inRelease.toString('utf8');
      const at = text.indexOf('Codename: bookworm-updates');
      expect(at).toBeGreaterThan(0);
      fake.files.set('dists/bookworm-updates/InRelease', Buffer.from(`${text.slice(0, at)}Codename: bookworm-updatez${text.slice(at + 26)}`));
      const error = await fetchSuiteIndex(request()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DebianIndexIntegrityError);
      expect((error as Error).message).toMatch(/refusing dists\/bookworm-updates\/InRelease: bad signature/);
    });

    it('refuses a Packages file whose hash differs from the signed Release', async () => {
      fake.files.set('dists/bookworm-updates/InRelease', inRelease);
      const tampered = Buffer.from(packagesXz);
      tampered[100] = (tampered[100] as number) ^ 0xff;
      fake.files.set('dists/bookworm-updates/main/binary-amd64/Packages.xz', tampered);
      const error = await fetchSuiteIndex(request({ cache: new IndexCache(join(dir, 'mismatch')) })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DebianIndexIntegrityError);
      expect((error as Error).message).toMatch(/Packages\.xz: its SHA256 is [0-9a-f]{64}, the signed Release says [0-9a-f]{64}/);
    });

    it('refuses the real security Release once its Valid-Until has passed', async () => {
      const source = sources.find((s) => s.suites.includes('bookworm-security')) as AptSource;
      const future = new DebianArchiveIndex({ sources: [source], revisions: new Map([['security', ['bookworm-security']]]), cacheDir: CACHE, now: () => new Date(Date.now() + 400 * 86400_000) });
      await expect(future.snapshot('security', 'amd64')).rejects.toThrow(/refusing dists\/bookworm-security\/InRelease: the Release expired at/);
    }, 120_000);
  });
});
