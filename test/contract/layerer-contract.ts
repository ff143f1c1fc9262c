import { describe, expect, it } from 'vitest';
import { InvalidLayeringGraphError, packageSetPopularity, type Layerer } from '../../src/layering/index.js';
import { assertValidLayers, closureOf, pickRoots, randomPackageSet, seeded, shuffled } from '../support/random-graphs.js';

export interface LayererTraits {
  /**
   * False for a layerer that never looks at references (one layer of everything): it cannot
   * notice a reference to a path outside the graph, and must still place every path.
   */
  readonly readsReferences: boolean;
}

/**
 * The contract every Layerer keeps (src/layering/types.ts), checked on seeded random closures
 * of a random package set: a partition within the budget, independent of input order,
 * deterministic, nothing for nothing, and loud about a broken graph.
 */
export function describeLayererContract(name: string, factory: () => Layerer, traits: LayererTraits = { readsReferences: true }): void {
  describe(`Layerer contract: ${name}`, () => {
    const layerer = factory();
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

    it('gives the same layers from a fresh instance', () => {
      const image = images[0] ?? { nodes: [], roots: [] };
      expect(factory().group(image, population, 20)).toEqual(layerer.group(image, population, 20));
    });

    it('returns no layers for an empty closure', () => {
      expect(layerer.group({ nodes: [], roots: [] }, new Map(), 5)).toEqual([]);
    });

    const broken = { nodes: [{ path: '/nix/store/a-x', narSize: 1, references: ['/nix/store/b-y'] }], roots: [] };
    if (traits.readsReferences) {
      it('rejects a reference to a path outside the graph', () => {
        expect(() => layerer.group(broken, new Map(), 5)).toThrow(InvalidLayeringGraphError);
      });
    } else {
      it('places every path even when a reference leads outside the graph', () => {
        expect(layerer.group(broken, new Map(), 5).flatMap((layer) => layer.paths)).toEqual(['/nix/store/a-x']);
      });
    }
  });
}
