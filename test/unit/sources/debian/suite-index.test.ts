import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveHttpClient } from '../../../../src/sources/debian/archive/archive-http.js';
import { IndexCache } from '../../../../src/sources/debian/archive/index-cache.js';
import { fetchSuiteIndex, type SuiteIndexRequest } from '../../../../src/sources/debian/archive/suite-index.js';
import { DebianArchiveUnavailableError, DebianIndexIntegrityError } from '../../../../src/sources/debian/errors.js';
import { publishSuite, stanza, type FakeArchive, type TestSigningKey } from '../../../support/debian-archive-fixtures.js';
import { startSignedArchive, type SignedArchive } from '../../../support/debian-test-archive.js';

describe('fetching and verifying one suite', () => {
  let key: TestSigningKey;
  let archive: FakeArchive;
  let dir: string;
  let now = new Date('2026-07-12T00:00:00Z');
  const request = (overrides: Partial<SuiteIndexRequest> = {}): SuiteIndexRequest => ({
    suite: 'stable',
    components: ['main'],
    architecture: 'amd64',
    keyrings: [key.keyring],
    http: new ArchiveHttpClient(archive.url, { retries: 0 }),
    cache: new IndexCache(dir),
    now: () => now,
    ...overrides,
  });

  let signed: SignedArchive;
  beforeAll(async () => {
    signed = await startSignedArchive();
    ({ key, archive } = signed);
  });
  afterAll(() => signed.close());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-suite-'));
    archive.files.clear();
    archive.requests.clear();
    now = new Date('2026-07-12T00:00:00Z');
    await publishSuite(archive, key, 'stable', `${stanza('hello', '2.10-3')}\n${stanza('bash', '5.2', { Essential: 'yes' })}`);
    return () => rm(dir, { recursive: true, force: true });
  });

  it('verifies the InRelease, checks the Packages hash and parses it; a second fetch downloads no Packages', async () => {
    const index = await fetchSuiteIndex(request());
    expect(index.packages.map((p) => p.name)).toEqual(['hello', 'bash']);
    expect(index.files).toEqual([{ path: 'main/binary-amd64/Packages.gz', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: expect.any(Number) }]);
    expect(index.packages[0]?.archiveUrl).toBe(archive.url);
    const again = await fetchSuiteIndex(request());
    expect(again.packages).toHaveLength(2);
    expect(archive.requests.get('dists/stable/main/binary-amd64/Packages.gz')).toBe(1);
    expect(await fetchSuiteIndex(request(), again)).toBe(again);
  });

  it('refuses a bad signature and a Packages file whose hash does not match', async () => {
    const signed = archive.files.get('dists/stable/InRelease') as Buffer;
    archive.files.set('dists/stable/InRelease', Buffer.from(signed.toString().replace('Suite: stable', 'Suite: stablE')));
    await expect(fetchSuiteIndex(request())).rejects.toThrow(/refusing dists\/stable\/InRelease: bad signature/);
    archive.files.set('dists/stable/InRelease', signed);
    const packages = archive.files.get('dists/stable/main/binary-amd64/Packages.gz') as Buffer;
    const tampered = Buffer.from(packages);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] as number) ^ 1;
    archive.files.set('dists/stable/main/binary-amd64/Packages.gz', tampered);
    const error = await fetchSuiteIndex(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DebianIndexIntegrityError);
    expect((error as Error).message).toMatch(/refusing dists\/stable\/main\/binary-amd64\/Packages.gz: its SHA256 is [0-9a-f]{64}, the signed Release says/);
    expect(await readdir(join(dir, 'sha256')).catch(() => [])).toEqual([]);
  });

  it('refuses an expired Release by the injected clock', async () => {
    await publishSuite(archive, key, 'stable', stanza('hello', '1'), { 'Valid-Until': 'Mon, 13 Jul 2026 00:00:00 UTC' });
    await expect(fetchSuiteIndex(request())).resolves.toBeDefined();
    now = new Date('2026-07-14T00:00:00Z');
    await expect(fetchSuiteIndex(request())).rejects.toThrow(/expired at 2026-07-13T00:00:00.000Z/);
  });

  it('refuses a Release older than the one in service', async () => {
    const current = await fetchSuiteIndex(request());
    await publishSuite(archive, key, 'stable', stanza('hello', '0.1'), { Date: 'Fri, 01 May 2026 00:00:00 UTC' });
    await expect(fetchSuiteIndex(request(), current)).rejects.toThrow(/older than the one in service/);
  });

  it('falls back to the cached InRelease when the archive is unreachable, verifying it again', async () => {
    await fetchSuiteIndex(request());
    archive.failures.set('dists/stable/InRelease', 503);
    try {
      const offline = await fetchSuiteIndex(request());
      expect(offline.packages.map((p) => p.name)).toEqual(['hello', 'bash']);
      const cached = join(dir, 'inrelease', (await readdir(join(dir, 'inrelease')))[0] as string);
      const text = await readFile(cached, 'utf8');
      await writeFile(cached, text.replace('Suite: stable', 'Suite: stablE'));
      await expect(fetchSuiteIndex(request())).rejects.toThrow(/refusing dists\/stable\/InRelease: the cached copy: bad signature/);
      await rm(join(dir, 'inrelease'), { recursive: true });
      await expect(fetchSuiteIndex(request())).rejects.toBeInstanceOf(DebianArchiveUnavailableError);
    } finally {
      archive.failures.delete('dists/stable/InRelease');
    }
  });

  it('refuses a validly signed Release of another suite served in its place', async () => {
    await publishSuite(archive, key, 'oldstable', stanza('hello', '1.0'));
    archive.files.set('dists/stable/InRelease', archive.files.get('dists/oldstable/InRelease') as Buffer);
    await expect(fetchSuiteIndex(request())).rejects.toThrow(/it is the Release of suite "oldstable" \(codename "oldstable"\), not of "stable"/);
  });

  it('names a suite or architecture the archive does not publish', async () => {
    await expect(fetchSuiteIndex(request({ suite: 'nosuch' }))).rejects.toThrow(/dists\/nosuch\/InRelease: the archive has no such file/);
    await expect(fetchSuiteIndex(request({ architecture: 'arm64' }))).rejects.toThrow(/lists no main\/binary-arm64\/Packages index/);
  });
});
