import { describe, expect, it } from 'vitest';
import { CoOccurrencePopularity, coOccurrenceOf, packageSetPopularity, StowageLayerer, type LayeringGraph } from '../../../src/layering/index.js';
import { libcStack, MB, node, pathOf, sortedLayerNames as names } from './store-fixtures.js';
import { closureOf } from '../../support/random-graphs.js';

// A path whose references are all reference-free (fontconfig-config over the fonts) is data too
// above the tight budget: no library update reaches it, so it stays apart from the binary.

const set: LayeringGraph = {
  nodes: [
    ...libcStack(),
    node('fonts', 2 * MB),
    node('fc-config', 500_000, ['fonts']),
    // viewer reaches six other paths: rebuilt whenever ld, libc, libz or libssl is.
    node('viewer', 5 * MB, ['fc-config', 'libz', 'libssl', 'libc']),
  ],
  roots: [],
};
const image = closureOf(set, [pathOf('viewer')]);
const past = Array.from({ length: 20 }, () => image.nodes.map((n) => n.path));
const withTable = new CoOccurrencePopularity(packageSetPopularity(set), coOccurrenceOf(past));
const layerOf = (layers: readonly string[][], name: string): string[] | undefined => layers.find((l) => l.includes(name));

describe('StowageLayerer with co-occurrence data: paths over data alone', () => {
  it('keeps them with their data, apart from the binary, above the tight budget', () => {
    const layers = names(new StowageLayerer().group(image, withTable, 50));
    expect(layers).toContainEqual(['fc-config', 'fonts']);
    expect(layerOf(layers, 'viewer')).not.toContain('fc-config');
  });

  it('joins them to the binary at the tight budget, where a unit more costs top-layer bytes', () => {
    expect(layerOf(names(new StowageLayerer().group(image, withTable, 20)), 'viewer')).toEqual(expect.arrayContaining(['fc-config', 'fonts']));
  });

  it('treats only reference-free paths as data when the option is off', () => {
    const layers = names(new StowageLayerer({ dataOneLevelAboveTightBudget: false }).group(image, withTable, 50));
    expect(layerOf(layers, 'viewer')).toContain('fc-config');
  });

  it('changes nothing without a table', () => {
    const population = packageSetPopularity(set);
    expect(names(new StowageLayerer().group(image, population, 50))).toEqual(names(new StowageLayerer({ dataOneLevelAboveTightBudget: false }).group(image, population, 50)));
  });
});
