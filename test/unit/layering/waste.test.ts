import { describe, expect, it } from 'vitest';
import { SingleLayerer, type LayeringGraph } from '../../../src/layering/index.js';
import { floorBytes, simulate, type Algorithm } from '../../../bench/layering/simulate.js';
import type { Pull } from '../../../bench/layering/trace.js';
import { wasteBreakdown } from '../../../bench/layering/waste.js';
import { graphOf, imageSourceOf } from './graph-builder.js';

describe('waste breakdown', () => {
  // Three images sharing libc (100 bytes); the security release rebuilds app1 (new identity) on the same libc.
  const graphs: Record<string, LayeringGraph> = {
    'main:app1': graphOf({ app1: 10, libc: 100 }, { app1: ['libc'] }, ['app1']),
    'main:app2': graphOf({ app2: 20, libc: 100 }, { app2: ['libc'] }, ['app2']),
    'security:app1': graphOf({ 'app1-fixed': 10, libc: 100 }, { 'app1-fixed': ['libc'] }, ['app1-fixed']),
  };
  const images = imageSourceOf(graphs);
  const trace: Pull[] = [
    { node: 'n1', release: 'main', packages: ['app1'] },
    { node: 'n1', release: 'main', packages: ['app2'] },
    { node: 'n1', release: 'security', packages: ['app1'] },
    { node: 'n2', release: 'main', packages: ['app2'] },
    { node: 'n2', release: 'main', packages: ['app1'] },
  ];
  const single: Algorithm = { name: 'single', layerer: new SingleLayerer(), popularity: () => new Map() };

  it('puts every byte over the floor down to exactly one cause', () => {
    const w = wasteBreakdown(trace, images, single, 5);
    const m = simulate(trace, images, floorBytes(trace, images), single, 5);
    expect(w.floorBytes).toBe(m.floorBytes);
    expect(w.floorBytes + w.top + w.shared + w.update).toBe(m.bytesPulled);
  });

  it('tells a layer re-pulled before the update from one re-pulled after it', () => {
    // One layer of the whole closure, under budget: not a top layer.
    const w = wasteBreakdown(trace, images, single, 5);
    expect(w).toMatchObject({ top: 0, shared: 200, update: 100, topPulled: 0 });
  });

  it('counts the last layer of an image given the whole budget as its top layer', () => {
    const w = wasteBreakdown(trace, images, single, 1);
    expect(w).toMatchObject({ top: 300, shared: 0, update: 0, topPulled: 110 + 120 + 110 + 120 + 110 });
  });
});
