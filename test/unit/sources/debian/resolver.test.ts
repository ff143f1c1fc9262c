import { describe, expect, it } from 'vitest';
import { resolveClosure } from '../../../../src/sources/debian/resolve/resolver.js';
import { PackageNotFoundError, UnsatisfiableDependencyError, VirtualPackageError } from '../../../../src/sources/errors.js';
import { snapshotOf } from '../../../support/debian-snapshot.js';

const names = (closure: { packages: ReadonlyArray<{ name: string }> }): string[] => closure.packages.map((p) => p.name);

describe('Debian closure resolver', () => {
  const universe = snapshotOf({
    stable: [
      ['libc6', '2.36-9', { Depends: 'libgcc-s1' }],
      ['libgcc-s1', '12.2.0-14'],
      ['bash', '5.2.15-2', { Essential: 'yes', 'Pre-Depends': 'libc6 (>= 2.36)' }],
      ['coreutils', '9.1-1', { Essential: 'yes', 'Pre-Depends': 'libc6' }],
      ['curl', '7.88.1-10', { Depends: 'libc6 (>= 2.34), libcurl4 (= 7.88.1-10), bash' }],
      ['libcurl4', '7.88.1-10', { Depends: 'libc6, libnew (>= 2) | libold, coreutils' }],
      ['libnew', '1.0'],
      ['libold', '1.0'],
      ['mawk', '1.3.4', { Provides: 'awk' }],
      ['gawk', '5.2.1', { Provides: 'awk' }],
      ['script', '1', { Depends: 'awk' }],
      ['mta-user', '1', { Depends: 'mail-transport-agent (>= 4)' }],
      ['exim4', '4.96', { Provides: 'mail-transport-agent (= 4.96)' }],
      ['postfix', '3.7', { Provides: 'mail-transport-agent' }],
      ['onlyone', '1', { Provides: 'solo' }],
      ['wants-ghost', '1', { Depends: 'ghost-virtual' }],
      ['app', '1', { Depends: 'middle' }],
      ['middle', '1', { Depends: 'libc6 (>= 9.0)' }],
      ['archy', '1', { Depends: 'libnew [amd64], libold [arm64]' }],
      ['pref', '1', { Depends: 'libnew | libold' }],
      ['self', '1', { Depends: 'self-dep | libold', Provides: 'self-dep' }],
      ['wget', '1.21', { Depends: 'libc6', Recommends: 'ca-certificates, publicsuffix' }],
      ['ca-certificates', '20230311', { Depends: 'openssl' }],
      ['openssl', '3.0.15'],
      ['publicsuffix', '20230209'],
      ['picky', '1', { Recommends: 'ca-certificates (>= 99999999)' }],
    ],
  });

  it('follows Depends and Pre-Depends with versions and alternatives, breadth first, sorted by name', async () => {
    const closure = resolveClosure(await universe, ['curl']);
    expect(names(closure)).toEqual(['curl', 'libc6', 'libcurl4', 'libgcc-s1', 'libold']);
    expect(closure.roots).toEqual(['curl']);
    expect([...closure.dependsOn]).toEqual([
      ['curl', ['libc6', 'libcurl4']],
      ['libc6', ['libgcc-s1']],
      ['libcurl4', ['libc6', 'libold']],
      ['libgcc-s1', []],
      ['libold', []],
    ]);
  });

  it('skips dependencies on Essential packages unless they are requested, then links them', async () => {
    const closure = resolveClosure(await universe, ['curl', 'bash']);
    expect(names(closure)).toEqual(['bash', 'curl', 'libc6', 'libcurl4', 'libgcc-s1', 'libold']);
    expect(closure.dependsOn.get('curl')).toEqual(['bash', 'libc6', 'libcurl4']);
    expect(closure.dependsOn.get('libcurl4')).not.toContain('coreutils');
  });

  it('follows a recommended ca-certificates (and its dependencies) but no other recommendation', async () => {
    const closure = resolveClosure(await universe, ['wget']);
    expect(names(closure)).toEqual(['ca-certificates', 'libc6', 'libgcc-s1', 'openssl', 'wget']);
    expect(closure.dependsOn.get('wget')).toEqual(['ca-certificates', 'libc6']);
    // A recommendation nothing satisfies is dropped, never an error.
    expect(names(resolveClosure(await universe, ['picky']))).toEqual(['picky']);
  });

  it('prefers an alternative already in the closure', async () => {
    expect(names(resolveClosure(await universe, ['pref']))).toEqual(['libnew', 'pref']);
    expect(names(resolveClosure(await universe, ['pref', 'libold']))).toEqual(['libold', 'pref']);
    expect(names(resolveClosure(await universe, ['libcurl4', 'libnew']))).toContain('libold');
  });

  it('picks a virtual provider already in the closure, else the first by name', async () => {
    expect(names(resolveClosure(await universe, ['script']))).toEqual(['gawk', 'script']);
    expect(names(resolveClosure(await universe, ['script', 'mawk']))).toEqual(['mawk', 'script']);
  });

  it('needs a versioned provision for a versioned virtual dependency', async () => {
    expect(names(resolveClosure(await universe, ['mta-user']))).toEqual(['exim4', 'mta-user']);
  });

  it('resolves a requested virtual name with one provider; refuses one with several or none', async () => {
    const solo = resolveClosure(await universe, ['solo']);
    expect(solo.roots).toEqual(['onlyone']);
    const awk = await (async () => resolveClosure(await universe, ['awk', 'nosuch', 'ghost-virtual']))().catch((e: unknown) => e);
    expect(awk).toBeInstanceOf(VirtualPackageError);
    expect(awk).toBeInstanceOf(PackageNotFoundError);
    expect((awk as VirtualPackageError).packages).toEqual(['nosuch', 'awk', 'ghost-virtual']);
    expect((awk as Error).message).toBe(
      'unknown package: nosuch; "awk" is a virtual package provided by gawk, mawk; name one of them; "ghost-virtual" is a virtual package that no package provides',
    );
    expect(resolveClosure(await universe, ['awk'], { virtualRoots: 'first-provider' }).roots).toEqual(['gawk']);
  });

  it('names every unknown package at once', async () => {
    const error = await (async () => resolveClosure(await universe, ['zzz', 'curl', 'aaa']))().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackageNotFoundError);
    expect(error).not.toBeInstanceOf(VirtualPackageError);
    expect((error as PackageNotFoundError).packages).toEqual(['aaa', 'zzz']);
  });

  it('names the chain of an unsatisfiable dependency', async () => {
    const error = await (async () => resolveClosure(await universe, ['app']))().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsatisfiableDependencyError);
    expect((error as UnsatisfiableDependencyError).chain).toEqual(['app', 'middle']);
    expect((error as Error).message).toBe('dependency "libc6 (>= 9.0)" of app -> middle cannot be satisfied: libc6 has only 2.36-9');
    const ghost = await (async () => resolveClosure(await universe, ['wants-ghost']))().catch((e: unknown) => e);
    expect((ghost as Error).message).toMatch(/"ghost-virtual" of wants-ghost cannot be satisfied: no package is named or provides ghost-virtual/);
  });

  it('honours architecture restriction lists and self-provision', async () => {
    expect(names(resolveClosure(await universe, ['archy']))).toEqual(['archy', 'libnew']);
    expect(names(resolveClosure(await universe, ['self']))).toEqual(['self']);
  });

  it('is deterministic whatever the order of the requested names', async () => {
    const a = resolveClosure(await universe, ['script', 'curl', 'mta-user', 'bash']);
    const b = resolveClosure(await universe, ['bash', 'mta-user', 'curl', 'script', 'curl']);
    expect(b).toEqual(a);
  });

  it('takes the highest version across suites, ties to the earlier suite', async () => {
    const snapshot = await snapshotOf({
      stable: [['tool', '1.0-1', { Depends: 'lib (>= 1.0)' }], ['lib', '1.0']],
      'stable-security': [['tool', '1.0-1+deb12u1', { Depends: 'lib (>= 1.1)' }], ['lib', '1.1'], ['lib', '1.0']],
    });
    const closure = resolveClosure(snapshot, ['tool']);
    expect(closure.packages.map((p) => [p.name, p.version, p.suite])).toEqual([
      ['lib', '1.1', 'stable-security'],
      ['tool', '1.0-1+deb12u1', 'stable-security'],
    ]);
    expect(snapshot.packages.get('lib')?.map((p) => p.suite)).toEqual(['stable-security', 'stable']);
  });
});
