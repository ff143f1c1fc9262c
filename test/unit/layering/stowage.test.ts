import { describe, expect, it } from 'vitest';
import {
  closurePopularity,
  packageSetPopularity,
  StowageLayerer,
  type LayeringGraph,
  type LayeringNode,
  type Popularity,
} from '../../../src/layering/index.js';
import { assertValidLayers, closureOf, pickRoots, randomPackageSet, seeded } from '../../support/random-graphs.js';

const MB = 1_000_000;
const pathOf = (name: string): string => `/nix/store/${name.replace(/[^a-z0-9]/g, 'x').padEnd(32, '0')}-${name}`;
const node = (name: string, narSize: number, refs: string[] = []): LayeringNode => ({
  path: pathOf(name),
  narSize,
  references: refs.map(pathOf),
});

// A tiny package set: two apps share libfoo (which alone uses libfoo-data) and libbar.
const set: LayeringGraph = {
  nodes: [
    node('libc', 13 * MB),
    node('libfoo-data', 100_000),
    node('libfoo', 2 * MB, ['libfoo-data', 'libc']),
    node('libbar', 300_000, ['libc']),
    node('app1', 5 * MB, ['libfoo', 'libbar', 'libc']),
    node('app2', 8 * MB, ['libfoo', 'libbar', 'libc']),
    node('other', 1 * MB, ['libbar', 'libc']),
  ],
  roots: [],
};
const population = packageSetPopularity(set);
const image = (...roots: string[]): LayeringGraph => closureOf(set, roots.map(pathOf));
const names = (layers: { paths: readonly string[] }[]): string[][] =>
  layers.map((l) => l.paths.map((p) => p.slice(p.indexOf('-') + 1)));

describe('StowageLayerer', () => {
  const stowage = new StowageLayerer();

  it('lets a small path ride with the path that covers it, in every image', () => {
    expect(names(stowage.group(image('app1'), population, 94))).toContainEqual(['libfoo', 'libfoo-data']);
    expect(names(stowage.group(image('app2'), population, 94))).toContainEqual(['libfoo', 'libfoo-data']);
  });

  it('keeps a small path that several independent users share on its own', () => {
    expect(names(stowage.group(image('app1', 'other'), population, 94))).toContainEqual(['libbar']);
  });

  it('never joins a path the popularity data does not know', () => {
    const partial = new Map(population);
    partial.delete(pathOf('libfoo-data'));
    expect(names(stowage.group(image('app1'), partial, 94))).toContainEqual(['libfoo-data']);
  });

  it('joins nothing without population data', () => {
    const layers = stowage.group(image('app1'), closurePopularity(image('app1')), 94);
    expect(layers).toHaveLength(5);
    expect(stowage.group(image('app1'), new Map(), 94)).toEqual(layers);
  });

  it('over budget, gives the largest units their own layers and puts the rest in the top layer', () => {
    const layers = names(stowage.group(image('app1', 'app2'), new Map(), 3));
    expect(layers).toHaveLength(3);
    expect(layers.slice(0, 2).flat().sort()).toEqual(['app2', 'libc']);
    expect(layers[2]).toEqual(['app1', 'libbar', 'libfoo', 'libfoo-data']);
  });

  // Seeded scenarios: an image of a random package set, and the same image plus one package.
  const scenarios = (() => {
    const random = seeded(7);
    const out: { before: LayeringGraph; after: LayeringGraph; counts: Popularity }[] = [];
    while (out.length < 80) {
      const packages = randomPackageSet(random, 250);
      const counts = packageSetPopularity(packages);
      for (let k = 0; k < 8; k++) {
        const roots = pickRoots(random, packages, 1 + Math.floor(random() * 3));
        const before = closureOf(packages, roots);
        const leaf = pickRoots(random, packages, 1)[0]!;
        if (before.nodes.some((n) => n.path === leaf)) continue;
        out.push({ before, after: closureOf(packages, [...roots, leaf]), counts });
      }
    }
    return out;
  })();

  // Allowed to differ: layers holding new paths, the top layer, and a unit promoted out of the old
  // top layer (new paths joined two old units into one and freed a layer).
  it.each([2, 5, 10, 30, 94])('is stable at budget %i: adding a package changes only layers holding its new paths and the top layer', (budget) => {
    for (const { before, after, counts } of scenarios) {
      const held = new Set(before.nodes.map((n) => n.path));
      const oldLayers = stowage.group(before, counts, budget);
      const old = new Set(oldLayers.map((l) => l.paths.join('\n')));
      const oldTop = new Set(oldLayers.at(-1)!.paths);
      const next = stowage.group(after, counts, budget);
      assertValidLayers(after, next, budget);
      for (const layer of next.slice(0, -1)) {
        const kept = old.has(layer.paths.join('\n'));
        const holdsNew = layer.paths.some((p) => !held.has(p));
        const promoted = layer.paths.every((p) => oldTop.has(p));
        expect(kept || holdsNew || promoted).toBe(true);
      }
    }
  });
});
