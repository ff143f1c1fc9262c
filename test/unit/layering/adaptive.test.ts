import { describe, expect, it } from 'vitest';
import { AdaptiveStowageLayerer, fewestLayersWithin, packageSetPopularity, StowageLayerer } from '../../../src/layering/index.js';
import { assertValidLayers, closureOf, pickRoots, randomPackageSet, seeded, shuffled } from '../../support/random-graphs.js';

describe('adaptive budget', () => {
  const random = seeded(5);
  const set = randomPackageSet(random, 400);
  const population = packageSetPopularity(set);
  const images = Array.from({ length: 15 }, () => closureOf(set, pickRoots(random, set, 2 + Math.floor(random() * 5))));
  const stowage = new StowageLayerer();
  const cost = (l: { closureBytes: number; wasteBytes: number }): number => l.closureBytes + l.wasteBytes;

  it('layout(b) is what group(b) returns', () => {
    for (const image of images) expect(stowage.layout(image, population, 20).layers).toEqual(stowage.group(image, population, 20));
  });

  it('picks the fewest layers whose cost is within the tolerance of the full budget', () => {
    let reduced = 0;
    for (const image of images) {
      for (const budget of [5, 20, 94]) {
        const full = stowage.layout(image, population, budget);
        const chosen = fewestLayersWithin(stowage, image, population, budget, 0.01);
        assertValidLayers(image, chosen.layers, budget);
        expect(cost(chosen)).toBeLessThanOrEqual(cost(full) * 1.01);
        const plan = stowage.planner(image, population, budget);
        if (chosen.layers.length > 1) expect(cost(plan(chosen.layers.length - 1))).toBeGreaterThan(cost(full) * 1.01);
        if (chosen.layers.length < full.layers.length) reduced++;
      }
    }
    expect(reduced).toBeGreaterThan(0);
  });

  it('with no tolerance, costs exactly what the full budget costs', () => {
    for (const image of images) {
      const full = stowage.layout(image, population, 20);
      expect(cost(fewestLayersWithin(stowage, image, population, 20, 0))).toBe(cost(full));
    }
  });

  it('keeps the contract: partition, budget, same layers whatever the input order', () => {
    const adaptive = new AdaptiveStowageLayerer();
    for (const image of images) {
      const layers = adaptive.group(image, population, 20);
      assertValidLayers(image, layers, 20);
      expect(adaptive.group(shuffled(random, image), population, 20)).toEqual(layers);
    }
    expect(adaptive.group({ nodes: [], roots: [] }, population, 20)).toEqual([]);
  });
});
