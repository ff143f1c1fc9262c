import type { PackageSummary } from '../sources/types.js';

export interface SearchResult {
  /** Packages matching the query, before the limit. */
  readonly total: number;
  readonly packages: readonly PackageSummary[];
}

/**
 * Words one query may hold, and its length: each word is looked for in every package's name and
 * description (63,000 of them with Debian) on the event loop, so a query of thousands of words
 * held the registry for seconds.
 */
export const MAX_QUERY_WORDS = 10;
export const MAX_QUERY_LENGTH = 256;

/** The distinct lower-case words of a query. */
export function queryWords(query: string): string[] {
  return [...new Set(query.toLowerCase().split(/\s+/).filter((word) => word !== ''))];
}

/**
 * Search a package listing: every word of the query must occur (case-insensitively) in the
 * name or the description. Ranked: exact name, name prefix, word in the name, then matches in
 * the description only; shorter names first within a rank, then by name. An empty query lists
 * packages by name.
 */
export function searchPackages(packages: readonly PackageSummary[], query: string, limit: number): SearchResult {
  const words = queryWords(query);
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
