import { describe, expect, it } from 'vitest';
import { CoOccurrencePopularity, coOccurrenceOf, packageName, packageSetPopularity, StowageLayerer, type LayeringGraph } from '../../../src/layering/index.js';
import { node, pathOf } from './store-fixtures.js';

// Unrelated paths (no references, so no cover joins): `rare` in no past image, `common` in 15
// of the 16, `large` and `tiny` in none. At budget 3 two units get own layers: `large`, and
// `rare` or `common`, whichever ranks higher.
const graph: LayeringGraph = {
  nodes: [node('large', 100_000), node('rare', 2_200), node('common', 1_000), node('tiny', 1)],
  roots: ['large', 'rare', 'common', 'tiny'].map(pathOf),
};
const past = [...Array.from({ length: 15 }, () => [pathOf('common')]), [pathOf('other')]];
const withTable = new CoOccurrencePopularity(packageSetPopularity(graph), coOccurrenceOf(past));
const ownLayers = (layerer: StowageLayerer): string[] =>
  layerer
    .group(graph, withTable, 3)
    .slice(0, -1)
    .flatMap((l) => l.paths.map(packageName))
    .sort();

describe('the ranking share by budget', () => {
  it('from twice the tight budget up, weighs past images less: a rare unit twice the size of a common one takes the layer', () => {
    // k = 16/16 = 1: rare 2,200 / 2 = 1,100 against common 1,000 × 16 / 17 = 941.
    expect(ownLayers(new StowageLayerer({ tightBudget: 1 }))).toEqual(['large', 'rare']);
  });

  it('at the tight budget, weighs them as before: the common unit takes it', () => {
    // k = 16/8 = 2: rare 2,200 / 3 = 733 against common 1,000 × 16 / 18 = 889.
    expect(ownLayers(new StowageLayerer({ tightBudget: 3 }))).toEqual(['common', 'large']);
    expect(ownLayers(new StowageLayerer({ tightBudget: 1, rareImagesShare: 1 / 8 }))).toEqual(['common', 'large']);
  });
});
