import { describe, expect, it } from 'vitest';
import { NixPackageListing, type NixRunner } from '../../../../src/sources/nix/package-listing.js';

const path = (name: string) => `/nix/store/${name.padEnd(32, 'x').slice(0, 32)}-${name}`;

/** A fake Nix: `hello` is in the store (closure hello → lib), `big` is not; a listing of three. */
function fakeNix(): { run: NixRunner; calls: string[]; fingerprint: { value: string } } {
  const calls: string[] = [];
  const fingerprint = { value: 'one' };
  const run: NixRunner = async (command, args) => {
    calls.push(`${command} ${args[0]}`);
    if (command === 'nix-instantiate' && args.includes('mode')) {
      const names = (args[args.indexOf('names') + 1] ?? '').split(' ');
      const known: Record<string, string[]> = { hello: [path('hello')], big: [path('big')], multi: [path('multi'), path('multi-lib')] };
      return JSON.stringify({ missing: names.filter((name) => !(name in known)), packages: Object.fromEntries(names.filter((name) => name in known).map((name) => [name, known[name]])) });
    }
    if (command === 'nix-instantiate') {
      return JSON.stringify([{ name: 'hello', version: '2.12', description: 'greets' }, { name: 'big', version: '', description: '' }, { name: 'multi', version: '1', description: '' }]);
    }
    if (command === 'nix-store') return args.filter((arg) => arg.includes('-big')).map((arg) => `${arg}\n`).join('');
    if (command === 'nix') {
      const info = (p: string, narSize: number, references: string[]) => ({ path: p, narSize, references });
      return JSON.stringify([info(path('hello'), 100, [path('lib')]), info(path('lib'), 1000, [path('lib')]), info(path('multi'), 10, [path('multi-lib')]), info(path('multi-lib'), 5, [path('lib')])]);
    }
    throw new Error(`unexpected ${command}`);
  };
  return { run, calls, fingerprint };
}

describe('NixPackageListing', () => {
  it('lists packages once per package-set state, sorted, without empty fields', async () => {
    const nix = fakeNix();
    const listing = new NixPackageListing({ packageSet: '/pkgs', run: nix.run, fingerprint: async () => nix.fingerprint.value });
    const signal = new AbortController().signal;
    const first = await listing.packages('x86_64-linux', signal);
    expect(first).toEqual([{ name: 'big' }, { name: 'hello', version: '2.12', description: 'greets' }, { name: 'multi', version: '1' }]);
    await listing.packages('x86_64-linux', signal);
    expect(nix.calls.filter((call) => call === 'nix-instantiate --eval')).toHaveLength(1);
    nix.fingerprint.value = 'two';
    await listing.packages('x86_64-linux', signal);
    expect(nix.calls.filter((call) => call === 'nix-instantiate --eval')).toHaveLength(2);
  });

  it('gives closure sizes of packages in the store, null for others, and caches them', async () => {
    const nix = fakeNix();
    const listing = new NixPackageListing({ packageSet: '/pkgs', run: nix.run, fingerprint: async () => 'one' });
    const signal = new AbortController().signal;
    expect(await listing.closureSizes('x86_64-linux', ['hello', 'big', 'multi', 'missing', 'not valid!'], signal)).toEqual({
      hello: 1100,
      big: null,
      multi: 1015,
      missing: null,
      'not valid!': null,
    });
    const before = nix.calls.length;
    await listing.closureSizes('x86_64-linux', ['hello'], signal);
    // Outputs and sizes are cached: only the validity check runs again.
    expect(nix.calls.slice(before)).toEqual(['nix-store --check-validity']);
  });
});
