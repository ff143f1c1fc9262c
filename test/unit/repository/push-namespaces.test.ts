import { describe, expect, it } from 'vitest';
import { PushNamespaces } from '../../../src/repository/push-namespaces.js';
import type { ImageNameOptions } from '../../../src/image-name/image-name.js';

const imageNames: ImageNameOptions = { maxPackages: 5, shellPackages: ['bash'], systems: ['x86_64-linux', 'aarch64-linux'], compression: 'gzip' };

function listing(bySystem: Record<string, string[]>) {
  let calls = 0;
  return {
    source: { listPackages: async ({ system }: { system: string }) => ((calls += 1), (bySystem[system] ?? []).map((name) => ({ name }))) },
    calls: () => calls,
  };
}

describe('PushNamespaces', () => {
  it('denies every spelling of a package list known on a system (dotted attribute paths count as known), allows names that are not one', async () => {
    const { source } = listing({ 'x86_64-linux': ['hello', 'git'], 'aarch64-linux': ['armonly', 'git'] });
    const policy = new PushNamespaces(source, { namespaces: [], imageNames });
    for (const name of ['hello', 'git/hello', 'hello/git/hello', 'armonly/git', 'hello/perlpackages.foo']) {
      expect((await policy.decide(name)).allowed, name).toBe(false);
    }
    // armonly/hello: no single system has both, so nothing builds it; a/b/c/d/e/f: too many packages.
    for (const name of ['myteam/myapp', 'hello/myapp', 'armonly/hello', 'a/b/c/d/e/f']) {
      expect((await policy.decide(name)).allowed, name).toBe(true);
    }
  });

  it('never allows shell or option components, even under a namespace', async () => {
    const { source } = listing({});
    const policy = new PushNamespaces(source, { namespaces: ['team'], imageNames });
    for (const name of ['team/shell', 'team/zstd/app', 'arm64/team', 'gzip', 'team/amd64']) expect((await policy.decide(name)).allowed, name).toBe(false);
    expect((await policy.decide('team/hello')).allowed).toBe(true);
    expect(policy.isReserved('hello/team')).toBe(true);
    expect(policy.isReserved('hello/teams')).toBe(false);
  });

  it('takes a name back from pushes once its packages appear, after the answer expires', async () => {
    const packages = { 'x86_64-linux': ['hello'], 'aarch64-linux': [] as string[] };
    const { source, calls } = listing(packages);
    let now = 0;
    const policy = new PushNamespaces(source, { namespaces: [], imageNames, ttlMs: 1000, now: () => now });
    expect((await policy.decide('hello/myapp')).allowed).toBe(true);
    packages['x86_64-linux'].push('myapp');
    expect((await policy.decide('hello/myapp')).allowed).toBe(true); // cached
    const asked = calls();
    now = 1000;
    expect((await policy.decide('hello/myapp')).allowed).toBe(false);
    expect(calls()).toBeGreaterThan(asked);
  });

  it('without a package listing, allows pushes only under namespaces', async () => {
    const policy = new PushNamespaces({}, { namespaces: ['ci'], imageNames });
    expect((await policy.decide('myteam/myapp')).allowed).toBe(false);
    const denied = await policy.decide('myteam/myapp');
    expect(denied.allowed === false && denied.reason).toContain('push under ci/');
    expect((await policy.decide('ci/build')).allowed).toBe(true);
  });
});
