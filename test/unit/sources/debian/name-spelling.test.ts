import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { nameProblem } from '../../../../src/oci/reference.js';
import { debianNameOf, ociSpellingOf } from '../../../../src/sources/debian/resolve/name-spelling.js';

describe('Debian names in image names', () => {
  it.each([
    ['git', 'git'],
    ['libstdc++6', 'libstdc_p_p6'],
    ['g++', 'g_p_p'],
    ['c++-annotations', 'c_p_p-annotations'],
    ['libdb5.3++', 'libdb5.3_p_p'],
    ['dvd+rw-tools', 'dvd_prw-tools'],
    ['libFoo', 'lib_ufoo'],
    ['python3.11', 'python3.11'],
  ])('%s ↔ %s', (debian, oci) => {
    expect(ociSpellingOf(debian)).toBe(oci);
    expect(debianNameOf(oci)).toBe(debian);
    expect(nameProblem(oci)).toBeNull();
  });

  it('has no spelling for names the grammar cannot carry', () => {
    for (const name of ['Foo', 'a.+b', 'a-+', '+a', 'a', 'a_b', 'a b']) expect(ociSpellingOf(name), name).toBeNull();
  });

  it('decodes only canonical spellings', () => {
    for (const component of ['a__pb', 'a_x', 'a_u', 'a_uB', 'lib_u1', 'A', 'a_', '_pa']) expect(debianNameOf(component), component).toBeNull();
  });

  it('spells every package name of this machine\'s dpkg database and round-trips it', async () => {
    const status = await readFile('/var/lib/dpkg/status', 'utf8');
    const names = [...status.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(100);
    for (const name of names) {
      const spelling = ociSpellingOf(name);
      expect(spelling, name).not.toBeNull();
      expect(debianNameOf(spelling as string), name).toBe(name);
    }
  });
});
