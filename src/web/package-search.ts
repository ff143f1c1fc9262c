import type { PackageSummary } from '../sources/types.js';

export interface SearchResult {
  /** Packages matching the query, before the limit. */
  readonly total: number;
  readonly packages: readonly PackageSummary[];
}

/**
 * Search a package listing: every word of the query must occur (case-insensitively) in the
 * name or the description. Ranked: exact name, name prefix, word in the name, then matches in
 * the description only; shorter names first within a rank, then by name. An empty query lists
 * packages by name.
 */
export function searchPackages(packages: readonly PackageSummary[], query: string, limit: number): SearchResult {
  const words = query.toLowerCase().split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) return { total: packages.length, packages: packages.slice(0, limit) };
  const phrase = words.join(' ');
  const ranked: Array<{ item: PackageSummary; rank: number }> = [];
  for (const item of packages) {
    const name = item.name.toLowerCase();
    const description = (item.description ?? '').toLowerCase();
    if (!words.every((word) => name.includes(word) || description.includes(word))) continue;
    const rank = name === phrase ? 0 : name.startsWith(phrase) ? 1 : words.every((word) => name.includes(word)) ? 2 : 3;
    ranked.push({ item, rank });
  }
  ranked.sort((a, b) => a.rank - b.rank || a.item.name.length - b.item.name.length || (a.item.name < b.item.name ? -1 : a.item.name > b.item.name ? 1 : 0));
  return { total: ranked.length, packages: ranked.slice(0, limit).map((entry) => entry.item) };
}
