/**
 * Which paths of a closure count as data for the "data apart" rules (`CoverOptions.dataApart`,
 * `CoOccurrenceOptions.dataApart`): content an update of the libraries below it does not
 * rebuild, so joining it to a binary that is rebuilt sends the unchanged data again.
 *
 * A path without references is data (`binutils-common`, `fonts-dejavu-core`). With
 * `oneLevel`, so is a path all of whose references are reference-free: in the Debian graph,
 * `fontconfig-config` (over `debconf` and the fonts), `locales-all`, most `-doc` and `-data`
 * packages; no library update reaches them. Only one level: two levels up are binaries
 * (anything that links `libc6` reaches its loader data and more). Measured on five seeds of three trace families (docs/layering.md, "Issue 16, sixth
 * round"): at 94, 0.03 points fewer bytes on every seed of the default and 80-node families
 * and update amplification 0.1 lower; the desktop mix is unchanged at 94 and 0.03 to 0.07
 * points worse at 50. At 20 it cost 0.04 to 0.12 points on every seed (a unit more there is
 * more bytes in the shared top layer), so Stowage enables it above its tight budget only.
 *
 * Decided from the path's own references, never from the rest of the image: the same path is
 * data or not in every image, which keeps its unit the same everywhere.
 */
import type { ClosureIndex } from './closure-index.js';

export function dataPaths(index: ClosureIndex, oneLevel: boolean): boolean[] {
  const referenceFree = index.refs.map((refs) => refs.length === 0);
  if (!oneLevel) return referenceFree;
  return index.refs.map((refs, i) => referenceFree[i]! || refs.every((r) => referenceFree[r]!));
}
