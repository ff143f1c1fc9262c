/**
 * Layering: groups an image's closure into at most N layers. Pure: imports nothing outside this
 * directory, does no I/O, and the same input always gives the same layers.
 */
export type { Layer, Layerer, LayeringGraph, LayeringNode, Popularity } from './types.js';
export { InvalidLayeringGraphError } from './closure-index.js';
export { NixeryLayerer } from './nixery.js';
export { NixpkgsAutoLayerer } from './nixpkgs-auto.js';
export { NixpkgsPopularityLayerer, referencesByPopularity } from './nixpkgs-popularity.js';
export {
  ClosurePopularity,
  closurePopularity,
  directReferenceCounts,
  packageSetPopularity,
  popularityByName,
  popularityFromNames,
  storePathName,
} from './popularity.js';
export { SingleLayerer } from './single.js';
export { CO_OCCURRENCE_RULES_VERSION, StowageLayerer, type StowageLayout, type StowageOptions } from './stowage.js';
export { AdaptiveStowageLayerer, fewestLayersWithin, type AdaptiveOptions } from './adaptive.js';
export { CoOccurrencePopularity, coOccurrenceOf, coOccurrenceOfNames, packageName, SIGNATURE_LENGTH, type CoOccurrenceTable } from './co-occurrence.js';
