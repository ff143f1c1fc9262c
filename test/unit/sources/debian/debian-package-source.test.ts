import { describe, expect, it } from 'vitest';
import { parseImageName } from '../../../../src/image-name/image-name.js';
import { assertDebianPackageName } from '../../../../src/sources/debian/debian-name-grammar.js';
import { DebianPackageSource } from '../../../../src/sources/debian/debian-package-source.js';
import { debianPopularity, resolveClosure } from '../../../../src/sources/debian/resolve/index.js';
import type { DebianIndexProvider, DebianIndexSnapshot } from '../../../../src/sources/debian/types.js';
import { SourceBusyError } from '../../../../src/sources/errors.js';
import { snapshotOf, type PackageSpec } from '../../../support/debian-snapshot.js';

const RELEASE: PackageSpec[] = [
  ['libc6', '2.36-9+deb12u9'],
  ['libssl3', '3.0.15-1~deb12u1', { Depends: 'libc6 (>= 2.34)' }],
  ['curl', '7.88.1-10+deb12u8', { Depends: 'libc6, libssl3 (>= 3.0.0)' }],
  ['git', '1:2.39.5-0+deb12u1', { Depends: 'libc6, libssl3' }],
];
const SECURITY: PackageSpec[] = [['libssl3', '3.0.17-1~deb12u2', { Depends: 'libc6 (>= 2.34)' }]];

/** An index provider over fixed snapshots: `bookworm` = the release, `latest` = release + security. */
async function provider(): Promise<DebianIndexProvider> {
  const snapshots: Record<string, DebianIndexSnapshot> = {
    bookworm: await snapshotOf({ bookworm: RELEASE }, 'bookworm'),
    latest: await snapshotOf({ bookworm: RELEASE, 'bookworm-security': SECURITY }, 'latest'),
  };
  return { revisions: () => ['latest', 'bookworm'], snapshot: async (revision) => snapshots[revision] as DebianIndexSnapshot };
}

const request = (packages: string[], revision = 'latest') => ({ packages, revision, system: 'x86_64-linux' });
const files = { fetch: () => Promise.reject(new Error('no .debs in this test')) };

describe('DebianPackageSource', () => {
  it('resolves a closure of one path per package version, with references and popularity', async () => {
    const source = new DebianPackageSource({ index: await provider(), resolveClosure: (s, n) => resolveClosure(s, n), files, popularity: (s) => debianPopularity(s) });
    const closure = await source.resolve(request(['curl']), { signal: new AbortController().signal });
    expect(closure.paths.map((info) => info.path)).toEqual(['/debian/curl_7.88.1-10+deb12u8_amd64', '/debian/libc6_2.36-9+deb12u9_amd64', '/debian/libssl3_3.0.17-1~deb12u2_amd64']);
    expect(closure.roots).toEqual(['/debian/curl_7.88.1-10+deb12u8_amd64']);
    expect(closure.packageRoots).toEqual({ curl: ['/debian/curl_7.88.1-10+deb12u8_amd64'] });
    expect(closure.paths[0]?.references).toEqual(['/debian/libc6_2.36-9+deb12u9_amd64', '/debian/libssl3_3.0.17-1~deb12u2_amd64']);
    expect(closure.rootFs).toBeDefined();
    // libc6 is needed by everything: the most popular path.
    const popularity = closure.popularity as ReadonlyMap<string, number>;
    expect(popularity.get('/debian/libc6_2.36-9+deb12u9_amd64')).toBeGreaterThan(popularity.get('/debian/curl_7.88.1-10+deb12u8_amd64') ?? 0);
  });

  it('reports the resolution, then each .deb as the layers read it, through onProgress', async () => {
    const source = new DebianPackageSource({ index: await provider(), resolveClosure: (s, n) => resolveClosure(s, n), files });
    const events: Array<{ kind: string; text: string }> = [];
    const closure = await source.resolve(request(['curl']), { signal: new AbortController().signal, onProgress: (event) => events.push(event) });
    expect(events).toEqual([{ kind: 'log', text: expect.stringMatching(/^resolved 3 Debian packages \(\d+\.\d MiB of \.debs\)$/) as unknown as string }]);
    // Reading a package's files fetches its .deb: reported before the fetch (which fails here).
    const entries = closure.rootFs?.reader.entries('/debian/libssl3_3.0.17-1~deb12u2_amd64');
    await expect((async () => {
      for await (const _entry of entries ?? []) break;
    })()).rejects.toThrow('no .debs in this test');
    expect(events[1]).toEqual({ kind: 'download', text: expect.stringMatching(/^fetching libssl3 3\.0\.17-1~deb12u2 \(amd64, /) as unknown as string });
  });

  it('keys images by index state: a security update changes the key and only the updated path', async () => {
    const source = new DebianPackageSource({ index: await provider(), resolveClosure: (s, n) => resolveClosure(s, n), files });
    expect(await source.cacheKey(request(['git'], 'latest'))).not.toBe(await source.cacheKey(request(['git'], 'bookworm')));
    const signal = new AbortController().signal;
    const before = (await source.resolve(request(['git'], 'bookworm'), { signal })).paths.map((info) => `${info.path} ${info.narHash}`);
    const after = (await source.resolve(request(['git'], 'latest'), { signal })).paths.map((info) => `${info.path} ${info.narHash}`);
    const changed = after.filter((line) => !before.includes(line));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/^\/debian\/libssl3_3\.0\.17/);
  });

  it('lists packages with versions and descriptions, and sums closure sizes', async () => {
    const source = new DebianPackageSource({ index: await provider(), resolveClosure: (s, n) => resolveClosure(s, n), files });
    const at = { revision: 'latest', system: 'x86_64-linux' };
    const listing = await source.listPackages(at, { signal: new AbortController().signal });
    expect(listing.map((item) => `${item.name} ${item.version}`)).toContain('libssl3 3.0.17-1~deb12u2');
    const sizes = await source.closureSizes(at, ['curl', 'nope'], { signal: new AbortController().signal });
    expect(sizes.nope).toBeNull();
    expect(sizes.curl).toBeGreaterThan(0);
    expect(await source.revisions()).toEqual(['latest', 'bookworm']);
  });

  it('sizes one request at a time with four waiting, refuses the rest, lets the event loop turn between names and remembers sizes', async () => {
    const resolved: string[] = [];
    const counting = (snapshot: DebianIndexSnapshot, names: readonly string[]) => (resolved.push(...names), resolveClosure(snapshot, names));
    const source = new DebianPackageSource({ index: await provider(), resolveClosure: counting, files });
    const at = { revision: 'latest', system: 'x86_64-linux' };
    const signal = new AbortController().signal;
    let resolvedWhenTheLoopTurned = -1;
    setImmediate(() => (resolvedWhenTheLoopTurned = resolved.length));
    const asked = ['curl', 'git', 'libssl3', 'libc6', 'nope', 'curl'];
    const answers = await Promise.allSettled(asked.map((name) => source.closureSizes(at, [name, `${name}-extra`], { signal })));
    // Each name resolved is a few milliseconds to tens of the event loop, for anyone who may pull.
    expect(resolvedWhenTheLoopTurned).toBe(1);
    expect(answers.map((answer) => answer.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((answers[5] as PromiseRejectedResult).reason).toBeInstanceOf(SourceBusyError);
    const before = resolved.length;
    expect(await source.closureSizes(at, ['curl', 'git', 'nope'], { signal })).toEqual({ curl: expect.any(Number), git: expect.any(Number), nope: null });
    expect(resolved.length).toBe(before);
  });
});

describe('routed image names', () => {
  const options = {
    maxPackages: 10,
    systems: ['x86_64-linux'],
    compression: 'gzip' as const,
    shellPackages: ['bash', 'coreutils'],
    assertPackageName: assertDebianPackageName,
    prefixed: { prefix: 'nix', shellPackages: ['busybox'] },
  };

  it('sends nix/ names to the Nix universe with its shell, everything else to Debian', () => {
    const nix = parseImageName('nix/shell/hello', 'latest', options);
    expect(nix.universe).toBe('nix');
    expect(nix.canonicalName).toBe('nix/hello/shell');
    expect(nix.request).toMatchObject({ packages: ['busybox', 'hello'], universe: 'nix' });
    const debian = parseImageName('shell/git/curl', 'latest', options);
    expect(debian.universe).toBeNull();
    expect(debian.request.packages).toEqual(['bash', 'coreutils', 'curl', 'git']);
    expect(debian.request.universe).toBeUndefined();
  });

  it('accepts Debian names Nix attribute paths cannot spell', () => {
    expect(parseImageName('python3.11/0ad/libstdc_p_p6', 'latest', options).request.packages).toEqual(['0ad', 'libstdc_p_p6', 'python3.11']);
    expect(() => parseImageName('nix/python3.11', 'latest', options)).toThrow(/attribute/);
  });
});
