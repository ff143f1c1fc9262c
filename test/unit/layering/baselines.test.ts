import { describe, expect, it } from 'vitest';
import {
  NixeryLayerer,
  NixpkgsAutoLayerer,
  NixpkgsPopularityLayerer,
  referencesByPopularity,
} from '../../../src/layering/index.js';
import { immediateDominators } from '../../../src/layering/dominators.js';
import { graphOf, layerNames, nameOf, pathOf } from './graph-builder.js';

// The example in nixpkgs' closure-graph.py: A-B-C-D-F, C-E-F, B-E, A-G.
const contest = graphOf(
  { A: 1, B: 1, C: 1, D: 1, E: 1, F: 1, G: 1 },
  { A: ['B', 'G'], B: ['C', 'E'], C: ['D', 'E'], D: ['F'], E: ['F'] },
);

describe('NixpkgsPopularityLayerer', () => {
  it('orders paths as the popularity contest does (F 9, E 5, D 4, C 3, B 2, G 2, A 1)', () => {
    expect(referencesByPopularity(contest).map(nameOf)).toEqual(['F', 'E', 'D', 'C', 'B', 'G', 'A']);
  });

  it('gives the budget-1 most popular paths a layer each and the rest one last layer', () => {
    expect(layerNames(new NixpkgsPopularityLayerer().group(contest, new Map(), 3))).toEqual([
      ['F'],
      ['E'],
      ['A', 'B', 'C', 'D', 'G'],
    ]);
    expect(new NixpkgsPopularityLayerer().group(contest, new Map(), 7)).toHaveLength(7);
  });
});

describe('NixpkgsAutoLayerer', () => {
  // big and tool are the two largest paths; dep1 and libc are used by both, dep2 by tool only.
  const graph = graphOf(
    { big: 100, tool: 50, libc: 20, dep1: 1, dep2: 1 },
    { big: ['dep1', 'libc'], tool: ['dep1', 'dep2', 'libc'] },
  );

  it('groups paths by the set of large primaries that use them, ordered by closure size', () => {
    expect(layerNames(new NixpkgsAutoLayerer().group(graph, new Map(), 3))).toEqual([
      ['dep1', 'libc'],
      ['dep2', 'tool'],
      ['big'],
    ]);
  });

  it('stops before the split that would exceed the limit', () => {
    expect(layerNames(new NixpkgsAutoLayerer().group(graph, new Map(), 2))).toEqual([
      ['dep2', 'tool'],
      ['big', 'dep1', 'libc'],
    ]);
    expect(new NixpkgsAutoLayerer().group(graph, new Map(), 10)).toHaveLength(5);
  });
});

describe('NixeryLayerer', () => {
  // Two apps, each with a private library; libc is popular, huge has a closure over 100 MB.
  const graph = graphOf(
    { app1: 1e6, app2: 1e6, libA: 1e6, libB: 1e6, libc: 1e6, huge: 150e6 },
    { app1: ['libA', 'libc'], app2: ['libB', 'libc', 'huge'], libA: ['libc'], libB: ['libc'] },
    ['app1', 'app2'],
  );
  const popularity = new Map([
    [pathOf('libc'), 300],
    [pathOf('app1'), 2],
    [pathOf('app2'), 3],
  ]);

  it('makes one layer per subtree of the dominator tree, popular and big paths split out', () => {
    const layers = layerNames(new NixeryLayerer().group(graph, popularity, 10));
    expect(layers).toHaveLength(4);
    expect(layers).toEqual(expect.arrayContaining([['app1', 'libA'], ['app2', 'libB'], ['libc'], ['huge']]));
  });

  it('merges the lowest-rated layers first', () => {
    // Ratings (popularity x summed closure sizes): app1 2 x (3 + 2) MB, huge 1 x 150 MB,
    // libc 300 x 1 MB, app2 3 x (154 + 2) MB: app1 and huge merge first.
    const layers = layerNames(new NixeryLayerer().group(graph, popularity, 3));
    expect(layers).toEqual([['app1', 'huge', 'libA'], ['libc'], ['app2', 'libB']]);
  });
});

describe('immediateDominators', () => {
  it('finds the dominators of a diamond with a tail', () => {
    // 0 -> 1, 2; 1 -> 3; 2 -> 3; 3 -> 4
    const idom = immediateDominators([[1, 2], [3], [3], [4], []], 0);
    expect([...idom]).toEqual([0, 0, 0, 0, 3]);
  });

  it('marks unreachable nodes with -1', () => {
    expect([...immediateDominators([[1], [], [1]], 0)]).toEqual([0, 0, -1]);
  });
});
