import { describe, expect, it } from 'vitest';
import { jaccard } from '../../../src/layering/co-occurrence.js';
import { CoOccurrencePopularity, coOccurrenceOf, packageSetPopularity, StowageLayerer, type LayeringGraph } from '../../../src/layering/index.js';
import { MB, node, pathOf, sortedLayerNames } from './store-fixtures.js';

// `a` and `b` unrelated small paths: 120 past images held both, three held `a` alone, so their
// signatures are close (estimated Jaccard about 0.98) but not equal; the tools no past image held.
const set: LayeringGraph = {
  nodes: [node('a', 300_000), node('b', 200_000), node('tool', 5 * MB), node('other', 4 * MB)],
  roots: [],
};
const past = [...Array.from({ length: 120 }, () => [pathOf('a'), pathOf('b')]), ...Array.from({ length: 3 }, () => [pathOf('a')])];
const table = coOccurrenceOf(past);
const withTable = new CoOccurrencePopularity(packageSetPopularity(set), table);
const image = (...names: string[]): LayeringGraph => ({ nodes: set.nodes.filter((n) => names.some((name) => n.path === pathOf(name))), roots: names.map(pathOf) });
const stowage = new StowageLayerer();

describe('classes by labels over the table, at the tight budget and below', () => {
  it('has signatures close but not equal to start from', () => {
    const similarity = jaccard(table.signatures.get('a')!, table.signatures.get('b')!);
    expect(similarity).toBeLessThan(1);
    expect(similarity).toBeGreaterThanOrEqual(0.95);
  });

  it('at budget 20, puts the two in one layer, the same in every image holding both', () => {
    expect(sortedLayerNames(stowage.group(image('a', 'b', 'tool'), withTable, 20))).toEqual([['a', 'b'], ['tool']]);
    expect(sortedLayerNames(stowage.group(image('a', 'b', 'other'), withTable, 20))).toEqual([['a', 'b'], ['other']]);
  });

  it('keeps equal signatures as classes above the tight budget, and when turned off', () => {
    expect(sortedLayerNames(stowage.group(image('a', 'b', 'tool'), withTable, 94))).toEqual([['a'], ['b'], ['tool']]);
    const off = new StowageLayerer({ classJaccardAtTightBudget: 0 });
    expect(sortedLayerNames(off.group(image('a', 'b', 'tool'), withTable, 20))).toEqual([['a'], ['b'], ['tool']]);
  });

  it('labels only names enough images held: a small table keeps equal signatures', () => {
    const strict = new StowageLayerer({ labelMinImages: 124 });
    expect(sortedLayerNames(strict.group(image('a', 'b', 'tool'), withTable, 20))).toEqual([['a'], ['b'], ['tool']]);
    const few = new CoOccurrencePopularity(packageSetPopularity(set), coOccurrenceOf([...Array.from({ length: 40 }, () => [pathOf('a'), pathOf('b')]), [pathOf('a')]]));
    expect(sortedLayerNames(stowage.group(image('a', 'b', 'tool'), few, 20))).toEqual([['a'], ['b'], ['tool']]);
  });
});
