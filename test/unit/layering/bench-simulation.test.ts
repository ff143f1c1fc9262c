import { describe, expect, it } from 'vitest';
import { SingleLayerer, type LayeringGraph } from '../../../src/layering/index.js';
import { floorBytes, simulate, type Algorithm } from '../../../bench/layering/simulate.js';
import { baseLayerPaths } from '../../../bench/layering/base-layer.js';
import { coOccurrenceOfNames } from '../../../src/layering/index.js';
import { formatTrace, imageKey, parseTrace, type Pull } from '../../../bench/layering/trace.js';
import { graphOf, imageSourceOf, pathOf } from './graph-builder.js';

describe('trace format', () => {
  it('round-trips pulls as JSON lines and skips blanks and comments', () => {
    const pulls: Pull[] = [
      { node: 'n1', release: 'main', packages: ['git', 'curl'] },
      { node: 'n2', release: 'security', packages: ['nginx'] },
    ];
    expect(parseTrace(`# a comment\n\n${formatTrace(pulls)}`)).toEqual(pulls);
  });

  it('names the line of a malformed pull', () => {
    expect(() => parseTrace('{"node":"n1","release":"main","packages":["git"]}\n{"node":"n1","release":"old","packages":["git"]}')).toThrow(
      'trace:2: "release" must be main or security',
    );
    expect(() => parseTrace('{"node":"n1","release":"main","packages":[]}')).toThrow('trace:1');
    expect(() => parseTrace('not json')).toThrow('trace:1: not JSON');
  });

  it('keys an image by release and sorted, deduplicated packages', () => {
    expect(imageKey({ node: 'a', release: 'main', packages: ['git', 'curl', 'git'] })).toBe('main:curl,git');
  });
});

// Two images sharing libc: a node pulling both holds libc once.
const graphs: Record<string, LayeringGraph> = {
  'main:app1': graphOf({ app1: 10, libc: 100 }, { app1: ['libc'] }, ['app1']),
  'main:app2': graphOf({ app2: 20, libc: 100 }, { app2: ['libc'] }, ['app2']),
};
const images = imageSourceOf(graphs);
const trace: Pull[] = [
  { node: 'n1', release: 'main', packages: ['app1'] },
  { node: 'n1', release: 'main', packages: ['app2'] },
  { node: 'n1', release: 'main', packages: ['app1'] },
  { node: 'n2', release: 'main', packages: ['app2'] },
];
const floor = floorBytes(trace, images);

describe('simulate', () => {

  it('charges the floor only for store paths a node does not hold yet', () => {
    expect(floor).toEqual([110, 20, 0, 120]);
  });

  it('charges a layerer for every layer a node does not hold, and counts distinct layers once', () => {
    const single: Algorithm = { name: 'single', layerer: new SingleLayerer(), popularity: () => new Map() };
    const m = simulate(trace, images, floor, single, 5);
    expect(m.bytesPulled).toBe(110 + 120 + 0 + 120);
    expect(m.floorBytes).toBe(250);
    expect(m.registryBytes).toBe(230);
    expect(m.hitRateBytes).toBeCloseTo(1 - 350 / 460);
    expect(m.layersPerImage).toBe(1);
    const perPath = simulate(trace, images, floor, { ...single, name: 'floor', layerer: null }, 5);
    expect(perPath.bytesPulled).toBe(perPath.floorBytes);
  });
});

describe('simulate with a base layer', () => {
  // The base holds libc and `extra`, a path neither image holds: every node downloads it too.
  const base = new Map([
    [pathOf('libc'), 100],
    [pathOf('extra'), 5],
  ]);
  const algorithm: Algorithm = { name: 'single-base', layerer: new SingleLayerer(), popularity: () => new Map(), base: () => base };

  it('puts the base whole under every image, once per node, and the rest in the layerer\'s layers', () => {
    const m = simulate(trace, images, floor, algorithm, 5);
    expect(m.floorBytes).toBe(110 + 20 + 120);
    // n1: base (105) + app1; then app2 only; app1 again: nothing; n2: base + app2.
    expect(m.bytesPulled).toBe(105 + 10 + 20 + 0 + 105 + 20);
    expect(m.registryBytes).toBe(105 + 10 + 20);
    expect(m.layersPerImage).toBe(2);
  });

  it('has no base at a budget of one layer', () => {
    const m = simulate(trace, images, floor, algorithm, 1);
    expect(m.bytesPulled).toBe(110 + 120 + 0 + 120);
    expect(m.layersPerImage).toBe(1);
  });

  it('takes the packages at least the share of past images held, up to the size bound, by the revision\'s paths', () => {
    const sizes: Record<string, number> = { libc: 100, zlib: 10, big: 1_000, rare: 1 };
    const names = Object.keys(sizes);
    const set = {
      has: (name: string) => name in sizes,
      indexOf: (name: string) => names.indexOf(name),
      size: (_release: string, pkg: number) => sizes[names[pkg]!]!,
      storePath: (release: string, pkg: number) => `/${release}/${names[pkg]!}`,
    };
    // Four past images: libc in all, zlib and big in two, rare in one; `gone` is not in the set.
    const table = coOccurrenceOfNames([['libc', 'zlib', 'big', 'gone'], ['libc', 'zlib', 'big'], ['libc', 'rare'], ['libc', 'gone']]);
    const paths = baseLayerPaths(set, table, 'security', { minShare: 0.5, maxPathBytes: 100 });
    expect([...paths]).toEqual([
      ['/security/libc', 100],
      ['/security/zlib', 10],
    ]);
    expect(baseLayerPaths(set, coOccurrenceOfNames([]), 'main').size).toBe(0);
  });
});
