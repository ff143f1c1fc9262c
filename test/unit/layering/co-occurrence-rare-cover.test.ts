import { describe, expect, it } from 'vitest';
import { CoOccurrencePopularity, coOccurrenceOf, packageSetPopularity, StowageLayerer, type LayeringGraph } from '../../../src/layering/index.js';
import { MB, node, pathOf, sortedLayerNames as names } from './store-fixtures.js';
import { closureOf } from '../../support/random-graphs.js';

// At the tight budget a path few past images held joins its coverer at a looser ratio: it is
// specific to a few tools, so a wrong join costs little, and a unit less keeps a popular one out
// of the top layer.

const set: LayeringGraph = {
  nodes: [
    node('libc', 13 * MB),
    node('sh', 1 * MB, ['libc']),
    node('toollib', 300_000, ['libc']),
    // In the package set toollib has three users' images (its own, tool's, other's): tool covers
    // it at 2/3, under the 0.75 of the tight budget, over 0.5.
    node('tool', 2 * MB, ['toollib', 'libc']),
    node('other', 1 * MB, ['toollib', 'libc']),
  ],
  roots: [],
};
const image = closureOf(set, [pathOf('tool')]);
const closure = (root: string): string[] => closureOf(set, [pathOf(root)]).nodes.map((n) => n.path);
const population = packageSetPopularity(set);
/** 59 past images of the shell and one of `tool`: toollib is in 1 of 60, under a fiftieth. */
const rare = new CoOccurrencePopularity(population, coOccurrenceOf([...Array.from({ length: 59 }, () => closure('sh')), closure('tool')]));
/** The same with 30 images of `other`: toollib is in half the past images. */
const common = new CoOccurrencePopularity(
  population,
  coOccurrenceOf([...Array.from({ length: 29 }, () => closure('sh')), ...Array.from({ length: 30 }, () => closure('other')), closure('tool')]),
);
const layerOf = (layers: readonly string[][], name: string): string[] | undefined => layers.find((l) => l.includes(name));

describe('StowageLayerer with co-occurrence data: paths past images rarely held', () => {
  it('join their coverer at the tight budget', () => {
    expect(layerOf(names(new StowageLayerer().group(image, rare, 20)), 'tool')).toEqual(['tool', 'toollib']);
  });

  it('stay apart above the tight budget, when the option is off, or when many past images held them', () => {
    expect(layerOf(names(new StowageLayerer().group(image, rare, 50)), 'tool')).toEqual(['tool']);
    expect(layerOf(names(new StowageLayerer({ rareCoverShareAtTightBudget: 0 }).group(image, rare, 20)), 'tool')).toEqual(['tool']);
    expect(layerOf(names(new StowageLayerer().group(image, common, 20)), 'tool')).toEqual(['tool']);
  });

  it('changes nothing without a table', () => {
    expect(layerOf(names(new StowageLayerer().group(image, population, 20)), 'tool')).toEqual(['tool']);
  });
});
