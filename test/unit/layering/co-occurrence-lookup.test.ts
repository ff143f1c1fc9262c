import { describe, expect, it } from 'vitest';
import { groupClosure } from '../../../src/builder/system-image-build.js';
import { closurePopularity, CoOccurrencePopularity, coOccurrenceOf, StowageLayerer, type CoOccurrenceTable, type LayeringGraph } from '../../../src/layering/index.js';
import type { ClosureGraph } from '../../../src/sources/types.js';

const MB = 1_000_000;
const pathOf = (name: string): string => `/nix/store/${name.padEnd(32, '0')}-${name}-1.0`;
const TOOLS = ['grep', 'sed', 'less', 'gawk', 'tar', 'gzip', 'xz', 'file', 'curl', 'jq', 'git', 'vim'];
const SIZES: Record<string, number> = { libc: 13 * MB, git: 30 * MB, vim: 25 * MB, curl: 4 * MB };

/** A closure of libc and `tools` (each referencing libc), as a source gives it. */
function closure(tools: readonly string[]): ClosureGraph {
  const paths = [
    { path: pathOf('libc'), narSize: SIZES.libc!, references: [] },
    ...tools.map((tool) => ({ path: pathOf(tool), narSize: SIZES[tool] ?? 300_000, references: [pathOf('libc')] })),
  ];
  return { paths, roots: tools.map(pathOf), packageRoots: {} };
}
const graphOf = (c: ClosureGraph): LayeringGraph => ({ nodes: c.paths.map((p) => ({ path: p.path, narSize: p.narSize, references: p.references })), roots: c.roots });

/** Past images: the base tools together, each with one other tool. */
const past = Array.from({ length: 40 }, (_, k) => ['libc', 'grep', 'sed', 'less', 'gawk', 'tar', TOOLS[6 + (k % 6)]!].map(pathOf));

/** The table with its signatures map counting full walks (the per-name lookup is built by walking it). */
function countingTable(): { table: CoOccurrenceTable; walks: () => number } {
  const table = coOccurrenceOf(past);
  let walks = 0;
  class CountingMap extends Map<string, Uint32Array> {
    override [Symbol.iterator](): MapIterator<[string, Uint32Array]> {
      walks += 1;
      return super[Symbol.iterator]();
    }
  }
  return { table: { ...table, signatures: new CountingMap(table.signatures) }, walks: () => walks };
}

const deps = { layerer: new StowageLayerer(), popularity: closurePopularity };
const images = [['grep', 'sed', 'less', 'curl'], ['grep', 'sed', 'gawk', 'tar', 'git'], ['less', 'xz', 'file'], ['grep', 'sed', 'less', 'gawk', 'tar', 'vim', 'jq']];

describe("the co-occurrence table's per-name lookup", () => {
  it('builds the per-name lookup once per table, not once per image', () => {
    const { table, walks } = countingTable();
    const versioned = { table, version: 'v1' };
    for (let round = 0; round < 3; round++) for (const tools of images) groupClosure(deps, { maxLayers: 4 }, closure(tools), versioned);
    expect(walks()).toBe(1);
    // A new table (another version) gets its own lookup.
    const next = countingTable();
    groupClosure(deps, { maxLayers: 4 }, closure(images[0]!), { table: next.table, version: 'v2' });
    groupClosure(deps, { maxLayers: 4 }, closure(images[1]!), { table: next.table, version: 'v2' });
    expect(next.walks()).toBe(1);
  });

  it('gives the builder the layers the layerer gives with the table', () => {
    const table = coOccurrenceOf(past);
    // The table changes the grouping here, so equal layers mean the table was read.
    // (at 6 layers the base tools' class fits where the tools alone do not; libc, without
    // references, stays apart from their class either way).
    const without = groupClosure(deps, { maxLayers: 6 }, closure(images[3]!), null);
    expect(groupClosure(deps, { maxLayers: 6 }, closure(images[3]!), { table, version: 'v1' })).not.toEqual(without);
    for (const tools of images) {
      const c = closure(tools);
      const counts = closurePopularity(graphOf(c));
      for (const budget of [3, 5, 20]) {
        expect(groupClosure(deps, { maxLayers: budget + 1 }, c, { table, version: 'v1' })).toEqual(deps.layerer.group(graphOf(c), new CoOccurrencePopularity(counts, table), budget));
      }
      // A second instance over the same table reads the same entries.
      const own = new CoOccurrencePopularity(counts, table);
      const again = new CoOccurrencePopularity(counts, table);
      expect([...again]).toEqual([...own]);
      for (const path of [...c.paths.map((p) => p.path), pathOf('unknown')]) expect(again.lookup(path)).toEqual(own.lookup(path));
    }
  });
});
