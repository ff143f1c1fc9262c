import { describe, expect, it } from 'vitest';
import { indexClosure, InvalidLayeringGraphError, reachability } from '../../../src/layering/closure-index.js';
import { graphOf, nameOf } from './graph-builder.js';

describe('indexClosure', () => {
  const graph = graphOf({ app: 1, lib: 2, libc: 3 }, { app: ['lib', 'libc', 'app'], lib: ['libc'] }, ['app']);

  it('sorts paths, drops self-references and lists every path after its references', () => {
    const index = indexClosure(graph);
    expect(index.paths.map(nameOf)).toEqual(['app', 'lib', 'libc']);
    expect(index.refs).toEqual([[1, 2], [2], []]);
    expect(index.users).toEqual([[], [0], [0, 1]]);
    expect(index.bottomUp.map((i) => nameOf(index.paths[i]!))).toEqual(['libc', 'lib', 'app']);
    expect(index.roots).toEqual([0]);
  });

  it('computes reachability, each path reaching itself', () => {
    const reach = reachability(indexClosure(graph));
    expect(reach.map((bits) => bits[0])).toEqual([0b111, 0b110, 0b100]);
  });

  it('rejects duplicate paths and unknown roots', () => {
    const node = { path: '/nix/store/a-x', narSize: 1, references: [] };
    expect(() => indexClosure({ nodes: [node, node], roots: [] })).toThrow(InvalidLayeringGraphError);
    expect(() => indexClosure({ nodes: [node], roots: ['/nix/store/b-y'] })).toThrow(InvalidLayeringGraphError);
  });
});
