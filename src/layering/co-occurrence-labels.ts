/**
 * Classes a little looser than equal signatures, computed once over the whole table: each
 * signature's label is the most-held signature (then the smallest key) whose estimated Jaccard
 * similarity with it is at least `minJaccard`, itself when no other is. In the bench's table of
 * seed 1, `libmpfr6` (held by 1,115 past images) and the base shell's class (1,071) have unequal
 * signatures, yet share a label at 0.95 and so one layer. A label is read from the table alone, one per signature,
 * so a unit's class is still the same in every image whatever else the image holds; and it is
 * never chained (a label points at a signature whose own label may differ, but classes are
 * labels, not chains), so a path close to two others does not tie them together.
 */
import { jaccard, type CoOccurrencePopularity, type CoOccurrenceTable } from './co-occurrence.js';

/** Per table and options: computed once (about 0.1 s for a table of 1,250 names of ten images or more). */
const labelsByTable = new WeakMap<CoOccurrenceTable, Map<string, ReadonlyMap<string, string>>>();

/**
 * Signature key → label key, for the names held by at least `minImages` images of the table
 * (others have no label and join no class).
 */
export function similarityLabels(popularity: CoOccurrencePopularity, minImages: number, minJaccard: number): ReadonlyMap<string, string> {
  let byOptions = labelsByTable.get(popularity.table);
  if (!byOptions) labelsByTable.set(popularity.table, (byOptions = new Map()));
  const optionsKey = `${minImages}/${minJaccard}`;
  const known = byOptions.get(optionsKey);
  if (known) return known;
  const entries = [...popularity.tableEntries()]
    .filter((e) => e.images >= minImages)
    .sort((a, b) => b.images - a.images || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const labels = new Map<string, string>();
  for (const entry of entries) {
    if (labels.has(entry.key)) continue;
    // The first in (images, key) order within reach; the entry itself at the latest.
    const label = entries.find((other) => jaccard(entry.signature, other.signature) >= minJaccard) ?? entry;
    labels.set(entry.key, label.key);
  }
  byOptions.set(optionsKey, labels);
  return labels;
}
