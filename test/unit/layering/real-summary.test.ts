import { describe, expect, it } from 'vitest';
import { formatSummary, summarise, type RunFigures } from '../../../bench/layering/real-summary.js';

const run = (seed: number, budget: number, coOccurrence: boolean, real: number, realMb: number): RunFigures => ({
  shape: '36 pulls, 4 nodes', seed, budget, coOccurrence, images: 24, groupsMatched: seed === 3 ? 23 : 24, layersPerImage: 18,
  realMb, floorMb: realMb / real, real, sim: real - 0.01, simInstalled: real - 0.02, nixery: 1.7, graph: 1.06, seconds: 60,
});

describe('the real bench summary over seeds', () => {
  it('gives per budget and mode the median and range over the seeds, and the effect of the table per seed', () => {
    const runs = [
      run(1, 20, false, 1.15, 250), run(1, 20, true, 1.2, 260),
      run(2, 20, false, 1.1, 240), run(2, 20, true, 1.1, 228),
      run(3, 20, false, 1.3, 300), run(3, 20, true, 1.2, 300),
      run(1, 94, false, 1.03, 230),
    ];
    const rows = summarise(runs);
    expect(rows.map((r) => [r.budget, r.coOccurrence, r.seeds])).toEqual([[20, false, [1, 2, 3]], [20, true, [1, 2, 3]], [94, false, [1]]]);
    expect(rows[0]!.real).toEqual({ median: 1.15, min: 1.1, max: 1.3 });
    expect(rows[0]!.groupsMatched).toBe(71);
    expect(rows[0]!.tableEffect).toBeNull();
    expect(rows[1]!.tableEffect).toEqual({ median: 1, min: 228 / 240, max: 260 / 250 });
    expect(formatSummary(rows)).toContain('| 36 pulls, 4 nodes | 20 | without | 1,2,3 | 71/72 | 1.150x (1.100x–1.300x) |');
  });
});
