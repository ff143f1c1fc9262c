import { describe, expect, it } from 'vitest';
import { debianPopularity, dependencyGraph } from '../../../../src/sources/debian/resolve/popularity.js';
import { snapshotOf } from '../../../support/debian-snapshot.js';

describe('Debian popularity from the dependency graph', () => {
  const universe = snapshotOf({
    stable: [
      ['libc6', '2.36', { Depends: 'libgcc-s1' }],
      ['libgcc-s1', '12', { Depends: 'libc6' }],
      ['bash', '5.2', { Essential: 'yes', 'Pre-Depends': 'libc6' }],
      ['libcurl4', '7.88', { Depends: 'libc6, libssl3' }],
      ['libssl3', '3.0', { Depends: 'libc6' }],
      ['curl', '7.88', { Depends: 'libcurl4, libc6' }],
      ['git', '2.39', { Depends: 'libcurl3-gnutls | libcurl4, bash, awk' }],
      ['mawk', '1.3', { Provides: 'awk' }],
      ['broken', '1', { Depends: 'nothing-at-all' }],
    ],
  });

  it('counts, per package, the packages whose closure holds it (itself included, cycles once)', async () => {
    const popularity = debianPopularity(await universe);
    expect(Object.fromEntries(popularity)).toEqual({
      bash: 2,
      broken: 1,
      curl: 1,
      git: 1,
      libc6: 7,
      libcurl4: 3,
      'libgcc-s1': 7,
      libssl3: 4,
      mawk: 2,
    });
  });

  it('counts direct dependents in direct mode', async () => {
    const popularity = debianPopularity(await universe, { mode: 'direct' });
    expect(popularity.get('libc6')).toBe(6);
    expect(popularity.get('bash')).toBe(2);
    expect(popularity.get('git')).toBe(1);
  });

  it('builds one edge per relation, chosen by the resolver rule, names sorted', async () => {
    const graph = dependencyGraph(await universe);
    const git = graph.names.indexOf('git');
    const successors = [...graph.targets.subarray(graph.offsets[git], graph.offsets[git + 1])].map((i) => graph.names[i]);
    expect(successors).toEqual(['libcurl4', 'bash', 'mawk']);
    expect(graph.names).toEqual([...graph.names].sort());
    expect(dependencyGraph(await universe)).toBe(graph);
  });
});
