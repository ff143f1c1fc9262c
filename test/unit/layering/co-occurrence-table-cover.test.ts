import { describe, expect, it } from 'vitest';
import {
  CoOccurrencePopularity,
  coOccurrenceOf,
  packageSetPopularity,
  StowageLayerer,
  type LayeringGraph,
} from '../../../src/layering/index.js';
import { MB, node, pathOf, sortedLayerNames as names } from './store-fixtures.js';
import { closureOf } from '../../support/random-graphs.js';

// In the package set, every user of libssl goes through libkrb (so libkrb covers it); the images
// the registry built mostly hold libssl without libkrb (a tool linking libssl directly is pulled
// far more than the Kerberos client).

const set: LayeringGraph = {
  nodes: [
    node('libc', 13 * MB),
    node('libssl', 4 * MB, ['libc']),
    node('libkrb', 600_000, ['libssl', 'libc']),
    node('kclient', 300_000, ['libkrb']),
    node('tool', 2 * MB, ['libssl', 'libc']),
  ],
  roots: [],
};
const image = (...roots: string[]): LayeringGraph => closureOf(set, roots.map(pathOf));
const paths = (graph: LayeringGraph): string[] => graph.nodes.map((n) => n.path);
const pastOf = (kclients: number, tools: number): string[][] => [
  ...Array.from({ length: kclients }, () => paths(image('kclient'))),
  ...Array.from({ length: tools }, () => paths(image('tool'))),
];
const stowage = new StowageLayerer();
const layerOf = (layers: readonly string[][], name: string): string[] | undefined => layers.find((l) => l.includes(name));

describe('StowageLayerer with co-occurrence data: cover joins checked against the table', () => {
  it('joins a path to its coverer on package-set counts alone', () => {
    expect(layerOf(names(stowage.group(image('kclient'), packageSetPopularity(set), 20)), 'libkrb')).toContain('libssl');
  });

  it('refuses the join when the table says the coverer is mostly pulled without the path', () => {
    const table = new CoOccurrencePopularity(packageSetPopularity(set), coOccurrenceOf(pastOf(10, 30)));
    const layers = names(stowage.group(image('kclient'), table, 20));
    expect(layerOf(layers, 'libkrb')).not.toContain('libssl');
    // The same libssl layer as in the images without libkrb.
    expect(names(stowage.group(image('tool'), table, 20))).toContainEqual(layerOf(layers, 'libssl'));
  });

  it('keeps the join when the table agrees, and when the check is off', () => {
    const agreeing = new CoOccurrencePopularity(packageSetPopularity(set), coOccurrenceOf(pastOf(30, 5)));
    expect(layerOf(names(stowage.group(image('kclient'), agreeing, 20)), 'libkrb')).toContain('libssl');
    const disagreeing = new CoOccurrencePopularity(packageSetPopularity(set), coOccurrenceOf(pastOf(10, 30)));
    const unchecked = new StowageLayerer({ tableCoverRatio: 0 });
    expect(layerOf(names(unchecked.group(image('kclient'), disagreeing, 20)), 'libkrb')).toContain('libssl');
  });
});
