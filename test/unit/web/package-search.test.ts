import { describe, expect, it } from 'vitest';
import { searchPackages } from '../../../src/web/package-search.js';

const packages = [
  { name: 'git', description: 'distributed version control' },
  { name: 'gitFull', description: 'git with everything' },
  { name: 'gitea', description: 'a forge' },
  { name: 'hello', version: '2.12.1', description: 'prints a greeting' },
  { name: 'tig', description: 'text-mode interface for git' },
  { name: 'python3', description: 'the Python interpreter' },
];
const names = (query: string, limit = 10) => searchPackages(packages, query, limit).packages.map((pkg) => pkg.name);

describe('searchPackages', () => {
  it('ranks the exact name, then prefixes, then names containing it, then descriptions', () => {
    expect(names('git')).toEqual(['git', 'gitea', 'gitFull', 'tig']);
    expect(names('GIT')).toEqual(['git', 'gitea', 'gitFull', 'tig']);
  });

  it('needs every word, in the name or the description', () => {
    expect(names('git interface')).toEqual(['tig']);
    expect(names('greeting')).toEqual(['hello']);
    expect(names('nothing like it')).toEqual([]);
  });

  it('counts all matches and returns at most the limit; an empty query lists in order', () => {
    expect(searchPackages(packages, 'git', 2)).toMatchObject({ total: 4, packages: [{ name: 'git' }, { name: 'gitea' }] });
    expect(searchPackages(packages, '  ', 3)).toMatchObject({ total: 6, packages: [{ name: 'git' }, { name: 'gitFull' }, { name: 'gitea' }] });
  });
});
