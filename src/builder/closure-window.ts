import { createHash } from 'node:crypto';
import { packageName } from '../layering/index.js';
import { CoOccurrenceKeys } from '../storage/metadata-keys.js';
import type { MetadataStore } from '../storage/types.js';

/** Most package names kept of one closure: bounds a record whatever a closure holds. */
const MAX_NAMES = 20_000;

export interface ClosureWindowOptions {
  /** Distinct closures kept, the most recent ones. */
  readonly limit: number;
  /** Epoch ms (injected in tests). */
  readonly now?: () => number;
}

/**
 * The closures of the most recent distinct images the builder built, as package names: the
 * population the co-occurrence table is computed from. In the metadata store (memory, files or
 * Redis alike: plain values and one set), so it survives restarts and replicas share it.
 *
 * An image is its set of package names (hashed): two revisions or systems with the same names
 * are one image, recorded again as the most recent. The set's members start with a fixed-width
 * time, so its ascending order is oldest first; past `limit` the oldest are removed. Replicas
 * recording at once can leave one image twice for a while: reads keep its newest member.
 */
export class ClosureWindow {
  private readonly now: () => number;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly options: ClosureWindowOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Record one built image's closure (its store paths). */
  async record(paths: readonly string[]): Promise<void> {
    const names = [...new Set(paths.map(packageName))].sort().slice(0, MAX_NAMES);
    if (names.length === 0) return;
    const hash = createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 32);
    const at = this.now();
    const previous = parseEntry(await this.metadata.get(CoOccurrenceKeys.image(hash)));
    await this.metadata.set(CoOccurrenceKeys.image(hash), JSON.stringify({ at, names }));
    await this.metadata.addToSet(CoOccurrenceKeys.window, memberOf(at, hash));
    if (previous && previous.at !== at) await this.metadata.removeFromSet(CoOccurrenceKeys.window, memberOf(previous.at, hash));
    await this.trim();
  }

  /** The recorded closures' package names, oldest first (at most `limit`). */
  async closures(): Promise<string[][]> {
    const members = await this.metadata.members(CoOccurrenceKeys.window);
    const result: string[][] = [];
    for (const { hash } of newestPerHash(members).slice(-this.options.limit)) {
      const entry = parseEntry(await this.metadata.get(CoOccurrenceKeys.image(hash)));
      if (entry) result.push(entry.names);
    }
    return result;
  }

  /** Drop the oldest members past `limit`, and their records unless a newer member holds them. */
  private async trim(): Promise<void> {
    const members = await this.metadata.members(CoOccurrenceKeys.window);
    const kept = newestPerHash(members);
    const keptMembers = new Set(kept.slice(-this.options.limit).map((entry) => entry.member));
    const keptHashes = new Set(kept.slice(-this.options.limit).map((entry) => entry.hash));
    for (const member of members) {
      if (keptMembers.has(member)) continue;
      await this.metadata.removeFromSet(CoOccurrenceKeys.window, member);
      const hash = member.slice(member.indexOf(':') + 1);
      if (!keptHashes.has(hash)) await this.metadata.delete(CoOccurrenceKeys.image(hash));
    }
  }
}

/** Fixed width (15 digits: past the year 30,000), so string order is time order. */
function memberOf(at: number, hash: string): string {
  return `${String(at).padStart(15, '0')}:${hash}`;
}

/** Members in ascending order, each hash once at its newest position. */
function newestPerHash(members: readonly string[]): Array<{ member: string; hash: string }> {
  const newest = new Map<string, string>();
  for (const member of members) newest.set(member.slice(member.indexOf(':') + 1), member);
  return [...newest.entries()].map(([hash, member]) => ({ member, hash })).sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
}

function parseEntry(text: string | null): { at: number; names: string[] } | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { at?: unknown; names?: unknown };
    if (typeof value.at !== 'number' || !Array.isArray(value.names) || !value.names.every((name) => typeof name === 'string')) return null;
    return { at: value.at, names: value.names as string[] };
  } catch {
    return null;
  }
}
