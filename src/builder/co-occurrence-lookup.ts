import { CoOccurrencePopularity, packageName, type CoOccurrenceTable, type Popularity } from '../layering/index.js';

/** What the table says about one package name (`CoOccurrencePopularity.lookup`'s answer). */
type Entry = NonNullable<ReturnType<CoOccurrencePopularity['lookup']>>;

/**
 * Per frozen table, its per-name entries, built on the first build that layers with it. Weak,
 * so the cache holds no more tables than the process does (a replaced table goes with its
 * entries); a registry holds one table at a time.
 */
const lookups = new WeakMap<CoOccurrenceTable, ReadonlyMap<string, Entry>>();

function lookupOf(table: CoOccurrenceTable): ReadonlyMap<string, Entry> {
  const known = lookups.get(table);
  if (known) return known;
  const byName = new Map<string, Entry>();
  // The entries `CoOccurrencePopularity` builds for itself (a test compares the two).
  for (const [name, signature] of table.signatures) byName.set(name, { images: table.images.get(name) ?? 0, signature, key: signature.join(',') });
  lookups.set(table, byName);
  return byName;
}

/**
 * `CoOccurrencePopularity` reading the table's shared entries. Its own constructor builds one
 * entry (and a 64-number string key) per name of the table, for every image built: thousands of
 * names for a few hundred paths. It is given the table without signatures, so it builds none,
 * and lookups go to the entries built once per table.
 */
class SharedLookupPopularity extends CoOccurrencePopularity {
  declare readonly table: CoOccurrenceTable;

  constructor(
    counts: Popularity,
    table: CoOccurrenceTable,
    private readonly sharedEntries: ReadonlyMap<string, Entry>,
  ) {
    super(counts, { total: table.total, images: table.images, signatures: new Map() });
    this.table = table;
  }

  override lookup(path: string): Entry | undefined {
    return this.sharedEntries.get(packageName(path));
  }
}

/** Population counts with a co-occurrence table, as the layerer reads them; the table's per-name lookup is built once per table. */
export function coOccurrencePopularity(counts: Popularity, table: CoOccurrenceTable): CoOccurrencePopularity {
  return new SharedLookupPopularity(counts, table, lookupOf(table));
}
