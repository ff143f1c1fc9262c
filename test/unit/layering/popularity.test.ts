import { describe, expect, it } from 'vitest';
import {
  closurePopularity,
  directReferenceCounts,
  packageSetPopularity,
  popularityByName,
  popularityFromNames,
  storePathName,
} from '../../../src/layering/index.js';
import { graphOf, pathOf } from './graph-builder.js';

const graph = graphOf({ app: 1, lib: 1, libc: 1, tool: 1 }, { app: ['lib', 'libc'], lib: ['libc'], tool: ['libc'] });

describe('closurePopularity', () => {
  it('counts the paths whose closure holds each path, itself included', () => {
    expect(new Map(closurePopularity(graph))).toEqual(
      new Map([
        [pathOf('app'), 1],
        [pathOf('lib'), 2],
        [pathOf('libc'), 4],
        [pathOf('tool'), 1],
      ]),
    );
  });

  it('ignores self-references', () => {
    const selfish = { nodes: [{ path: pathOf('a'), narSize: 1, references: [pathOf('a')] }], roots: [] };
    expect(closurePopularity(selfish).get(pathOf('a'))).toBe(1);
  });
});

describe('directReferenceCounts', () => {
  it('counts direct users only', () => {
    expect(directReferenceCounts(graph).get(pathOf('libc'))).toBe(3);
    expect(directReferenceCounts(graph).get(pathOf('app'))).toBe(0);
  });
});

describe('packageSetPopularity', () => {
  it('counts over the whole package set, so a path used elsewhere scores above its closure count', () => {
    const set = graphOf({ a: 1, b: 1, lib: 1 }, { a: ['lib'], b: ['lib'] });
    expect(packageSetPopularity(set).get(pathOf('lib'))).toBe(3);
  });
});

describe('popularity by name', () => {
  it('strips the hash from store paths', () => {
    expect(storePathName('/nix/store/abc123-hello-2.12')).toBe('hello-2.12');
    expect(storePathName('hello')).toBe('hello');
  });

  it('carries counts to a rebuilt path with the same name', () => {
    const table = popularityByName(new Map([['/nix/store/aaa-libc-2.36', 7]]));
    const rebuilt = { nodes: [{ path: '/nix/store/bbb-libc-2.36', narSize: 1, references: [] }], roots: [] };
    expect(popularityFromNames(table, rebuilt)).toEqual(new Map([['/nix/store/bbb-libc-2.36', 7]]));
  });
});
