import { describe, expect, it } from 'vitest';
import {
  packageSetPopularity,
  InvalidLayeringGraphError,
  NixeryLayerer,
  NixpkgsAutoLayerer,
  NixpkgsPopularityLayerer,
  SingleLayerer,
  StowageLayerer,
  type Layerer,
} from '../../../src/layering/index.js';
import { assertValidLayers, closureOf, pickRoots, randomPackageSet, seeded, shuffled } from './random-graphs.js';

const layerers: Layerer[] = [
  new SingleLayerer(),
  new NixpkgsPopularityLayerer(),
  new NixpkgsAutoLayerer(),
  new NixeryLayerer(),
  new StowageLayerer(),
];

// The contract every layerer keeps, checked on seeded random closures of a random package set.
describe.each(layerers.map((l) => [l.name, l] as const))('%s', (_name, layerer) => {
  const random = seeded(42);
  const set = randomPackageSet(random, 400);
  const population = packageSetPopularity(set);
  const images = Array.from({ length: 12 }, () => closureOf(set, pickRoots(random, set, 1 + Math.floor(random() * 4))));

  it('puts every path in exactly one layer, within the budget', () => {
    for (const image of images) {
      for (const budget of [1, 2, 5, 20, 94]) {
        assertValidLayers(image, layerer.group(image, population, budget), budget);
      }
    }
  });

  it('gives the same layers whatever the order of nodes, references and roots', () => {
    for (const image of images) {
      for (const budget of [3, 20]) {
        const expected = layerer.group(image, population, budget);
        for (let k = 0; k < 3; k++) {
          expect(layerer.group(shuffled(random, image), population, budget)).toEqual(expected);
        }
      }
    }
  });

  it('returns no layers for an empty closure', () => {
    expect(layerer.group({ nodes: [], roots: [] }, new Map(), 5)).toEqual([]);
  });

  it('rejects a reference to a path outside the graph', () => {
    const broken = { nodes: [{ path: '/nix/store/a-x', narSize: 1, references: ['/nix/store/b-y'] }], roots: [] };
    if (layerer.name === 'single') return; // the single layer never looks at references
    expect(() => layerer.group(broken, new Map(), 5)).toThrow(InvalidLayeringGraphError);
  });
});
