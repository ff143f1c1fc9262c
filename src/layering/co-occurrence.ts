/**
 * Co-occurrence data: which store paths images ship together. Per-path counts (`popularity.ts`)
 * only say that along a dependency chain; two unrelated paths that every image takes together
 * (a base shell's `grep` and `sed`) look independent in them. Here each package name gets a
 * MinHash signature of the set of images whose closure holds it: the share of equal positions
 * of two signatures estimates the Jaccard similarity of the two sets, for any pair, in a fixed
 * size per name whatever the number of images.
 *
 * The population is a list of images the registry has built (their closures), taken from a
 * past period and frozen: it is a table, like Nixery's popularity file, not the live pull log
 * (a moving population regroups paths from one week to the next, and layers stop matching).
 * Keys are package names without version (Nix's `parseDrvName` rule), so the table survives
 * rebuilds and version updates.
 */
import type { Popularity } from './types.js';

/** Where the Debian source puts its packages (`sources/debian/package-path.ts`; layering imports nothing). */
const DEBIAN_PREFIX = '/debian/';

/** MinHash positions per signature: Jaccard estimates within about ±0.04 at 0.9. */
export const SIGNATURE_LENGTH = 64;

/** Per package name: how many images hold it, and its MinHash signature over those images. */
export interface CoOccurrenceTable {
  /** Number of images in the population. */
  readonly total: number;
  readonly images: ReadonlyMap<string, number>;
  readonly signatures: ReadonlyMap<string, Uint32Array>;
}

/**
 * `/nix/store/<hash>-openssh-client-9.2p1` → `openssh-client`: the name up to the first dash
 * followed by a digit (`builtins.parseDrvName`).
 */
export function packageName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  // Debian's `/debian/<name>_<version>_<arch>`: package names never hold an underscore.
  if (path.startsWith(DEBIAN_PREFIX)) return base.split('_', 1)[0] ?? base;
  const dash = base.indexOf('-');
  const name = dash < 0 ? base : base.slice(dash + 1);
  const version = /-[0-9]/.exec(name);
  return version ? name.slice(0, version.index) : name;
}

/**
 * The table for a population of images, each given as the store paths of its closure. Image
 * `k` of the list is hashed by its position, so the same list always gives the same table.
 */
export function coOccurrenceOf(images: Iterable<readonly string[]>): CoOccurrenceTable {
  return coOccurrenceOfNames(mapIterable(images, (image) => image.map(packageName)));
}

/** The same from each image's package names (`packageName` of its paths), as the registry records them. */
export function coOccurrenceOfNames(images: Iterable<Iterable<string>>): CoOccurrenceTable {
  const counts = new Map<string, number>();
  const signatures = new Map<string, Uint32Array>();
  const hashes = new Uint32Array(SIGNATURE_LENGTH);
  let k = 0;
  for (const image of images) {
    for (let j = 0; j < SIGNATURE_LENGTH; j++) hashes[j] = mix(k, j);
    k += 1;
    for (const name of new Set(image)) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      let signature = signatures.get(name);
      if (!signature) signatures.set(name, (signature = new Uint32Array(SIGNATURE_LENGTH).fill(0xffffffff)));
      for (let j = 0; j < SIGNATURE_LENGTH; j++) if (hashes[j]! < signature[j]!) signature[j] = hashes[j]!;
    }
  }
  return { total: k, images: counts, signatures };
}

/**
 * Population counts (what `StowageLayerer`'s cover test reads, e.g. `packageSetPopularity`)
 * together with a co-occurrence table: a `Popularity` that also tells which paths images ship
 * together. `StowageLayerer` groups those; every other layerer just reads the counts.
 */
/** What the table says about one package name. */
export interface CoOccurrenceEntry {
  /** Images of the population holding the package. */
  readonly images: number;
  readonly signature: Uint32Array;
  /** The signature as a string: equal keys, equal signatures. */
  readonly key: string;
}

/**
 * Population counts (what `StowageLayerer`'s cover test reads, e.g. `packageSetPopularity`)
 * together with a co-occurrence table: a `Popularity` that also tells which paths images ship
 * together. `StowageLayerer` groups those; every other layerer just reads the counts.
 */
export class CoOccurrencePopularity extends Map<string, number> {
  private readonly byName: ReadonlyMap<string, CoOccurrenceEntry>;

  constructor(
    counts: Popularity,
    readonly table: CoOccurrenceTable,
  ) {
    super(counts);
    this.byName = entriesOf(table);
  }

  /** The table's entry for `path`'s package, or undefined when no image held it. */
  lookup(path: string): CoOccurrenceEntry | undefined {
    return this.byName.get(packageName(path));
  }

  /** Every name's entry, in the table's order. */
  tableEntries(): IterableIterator<CoOccurrenceEntry> {
    return this.byName.values();
  }
}

/**
 * Per table, its per-name entries: built once per table, not once per image (a registry layers
 * every image with the same frozen table; keying thousands of names took longer than layering
 * a few hundred paths). Weak, so a replaced table goes with its entries. Pure: a table is never
 * changed once frozen, so the entries are a function of it.
 */
const entriesByTable = new WeakMap<CoOccurrenceTable, ReadonlyMap<string, CoOccurrenceEntry>>();

function entriesOf(table: CoOccurrenceTable): ReadonlyMap<string, CoOccurrenceEntry> {
  const known = entriesByTable.get(table);
  if (known) return known;
  const byName = new Map<string, CoOccurrenceEntry>();
  // Keys as strings: the layerer only compares them.
  for (const [name, signature] of table.signatures) byName.set(name, { images: table.images.get(name) ?? 0, signature, key: signature.join(',') });
  entriesByTable.set(table, byName);
  return byName;
}

/** Estimated Jaccard similarity of the two image sets behind `a` and `b`. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  let equal = 0;
  for (let j = 0; j < SIGNATURE_LENGTH; j++) if (a[j] === b[j]) equal += 1;
  return equal / SIGNATURE_LENGTH;
}

function* mapIterable<T, U>(items: Iterable<T>, fn: (item: T) => U): Iterable<U> {
  for (const item of items) yield fn(item);
}

/** Hash of image `k` under MinHash position `j` (murmur3's finaliser over a per-position salt). */
function mix(k: number, j: number): number {
  let h = (Math.imul(k + 1, 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
