import { describe, expect, it } from 'vitest';
import {
  CoOccurrencePopularity,
  coOccurrenceOf,
  packageSetPopularity,
  StowageLayerer,
  type LayeringGraph,
} from '../../../src/layering/index.js';
import { libcStack, MB, node, pathOf, sortedLayerNames as names } from './store-fixtures.js';
import { closureOf } from '../../support/random-graphs.js';

// Data without references (bin-data, fonts) beside binaries that an update rebuilds with their
// libraries: with a co-occurrence table the data keeps a unit of its own.

const set: LayeringGraph = {
  nodes: [
    ...libcStack(),
    node('bin-data', MB),
    // bin reaches five paths besides itself: rebuilt whenever ld, libc, libz or libssl is.
    node('bin', 5 * MB, ['bin-data', 'libz', 'libssl', 'libc']),
    node('tool-data', 500_000),
    // tool reaches three (tool-data, libc, ld): a coverer still close enough to its data.
    node('tool', 2 * MB, ['tool-data', 'libc']),
    node('fonts', 2 * MB),
    node('viewer', 3 * MB, ['libc']),
  ],
  roots: [],
};
const image = (...roots: string[]): LayeringGraph => closureOf(set, roots.map(pathOf));
const paths = (graph: LayeringGraph): string[] => graph.nodes.map((n) => n.path);
// Past images: each of bin, tool and viewer-with-fonts, alone, 20 times over.
const past = [...Array.from({ length: 20 }, () => [image('bin'), image('tool'), image('fonts', 'viewer')]).flat().map(paths)];
const withTable = new CoOccurrencePopularity(packageSetPopularity(set), coOccurrenceOf(past));
const stowage = new StowageLayerer();
const layerOf = (layers: readonly string[][], name: string): string[] | undefined => layers.find((l) => l.includes(name));

describe('StowageLayerer with co-occurrence data: data apart from rebuilt binaries', () => {
  it('does not join data to a coverer reaching more than three other paths, nor to its class', () => {
    // Counts alone join bin-data to bin (its only user).
    expect(layerOf(names(stowage.group(image('bin'), packageSetPopularity(set), 20)), 'bin')).toContain('bin-data');
    // With the table, the cover join is refused and bin-data's equal signature does not class it with bin.
    const layers = names(stowage.group(image('bin'), withTable, 20));
    expect(layers).toContainEqual(['bin-data']);
    expect(layerOf(layers, 'bin')).not.toContain('bin-data');
  });

  it('still joins data to a coverer close to it', () => {
    expect(names(stowage.group(image('tool'), withTable, 20))).toContainEqual(['tool', 'tool-data']);
  });

  it('keeps data out of the class of a binary the same images held', () => {
    const layers = names(stowage.group(image('fonts', 'viewer'), withTable, 20));
    expect(layers).toContainEqual(['fonts']);
    expect(layerOf(layers, 'viewer')).not.toContain('fonts');
  });

  it('applies the reach and size limits given as options', () => {
    expect(layerOf(names(new StowageLayerer({ dataApartReach: 5 }).group(image('bin'), withTable, 20)), 'bin')).toContain('bin-data');
    expect(layerOf(names(new StowageLayerer({ dataApartBytes: 2 * MB }).group(image('bin'), withTable, 20)), 'bin')).toContain('bin-data');
  });
});
