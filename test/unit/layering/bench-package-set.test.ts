import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PackageSet } from '../../../bench/layering/package-set.js';

// `app` needs `lib`; the security release updates `lib` only.
const dir = mkdtempSync(join(tmpdir(), 'stowage-package-set-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, value: unknown): void => writeFileSync(join(dir, name), gzipSync(JSON.stringify(value)));
write('graph.json.gz', {
  packages: {
    app: { version: '1.0', size: 10, section: 'utils', refs: ['lib'] },
    lib: { version: '2.0', size: 20, section: 'libs', refs: [] },
  },
});
write('updates.json.gz', { updates: { lib: { version: '2.0+deb12u1', size: 21 } } });

const paths = (set: PackageSet, name: string) => ({ main: set.storePath('main', set.indexOf(name)), security: set.storePath('security', set.indexOf(name)) });

describe('bench package set identities', () => {
  it('names a path by its references too by default, as Nix does: an update changes every path above it', () => {
    const set = new PackageSet(dir);
    expect(paths(set, 'lib').main).not.toBe(paths(set, 'lib').security);
    expect(paths(set, 'app').main).not.toBe(paths(set, 'app').security);
  });

  it('names a path by name and version alone with `version`, as Debian does: the update changes the updated package only', () => {
    const set = new PackageSet(dir, 'version');
    expect(paths(set, 'lib').main).not.toBe(paths(set, 'lib').security);
    expect(paths(set, 'app').main).toBe(paths(set, 'app').security);
    expect(set.size('security', set.indexOf('lib'))).toBe(21);
  });
});
