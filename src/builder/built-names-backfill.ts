import type { MetadataStore } from '../storage/types.js';
import { BuiltImageKeys } from '../storage/metadata-keys.js';
import { OneTimeMigration } from '../storage/one-time-migration.js';

/** `<name>:<tag>` entries of `built-images` read per page while listing their names. */
const PAGE = 1000;

/**
 * The catalog lists built images from `built-names`, which older versions did not write: their
 * images are only `<name>:<tag>` entries of `built-images`. This adds each entry's name, once
 * per store, reading the entries a page at a time (memory stays bounded) and adding only names
 * not yet listed that still have tags, so a name that expires meanwhile is not listed again.
 */
export class BuiltNamesBackfill extends OneTimeMigration {
  constructor(metadata: MetadataStore) {
    super(metadata, BuiltImageKeys.builtNamesComplete, async (signal) => {
      let added = 0;
      let after: string | undefined;
      for (;;) {
        signal?.throwIfAborted();
        const entries = await metadata.membersAfter(BuiltImageKeys.builtImages, after, PAGE);
        for (const name of new Set(entries.map(nameOfEntry))) {
          if (await metadata.isMember(BuiltImageKeys.builtNames, name)) continue;
          if (!(await hasTags(metadata, name))) continue;
          await metadata.addToSet(BuiltImageKeys.builtNames, name);
          // Expiry deletes a name's tags before it drops the name: if they are gone now, it
          // expired while this ran and may have dropped the name before it was added.
          if (!(await hasTags(metadata, name))) {
            await metadata.removeFromSet(BuiltImageKeys.builtNames, name);
            continue;
          }
          added += 1;
        }
        if (entries.length < PAGE) return added;
        after = entries[entries.length - 1];
      }
    });
  }
}

/** The name of a `built-images` entry, `<name>:<tag>` (a tag never holds ':'). */
export function nameOfEntry(entry: string): string {
  const colon = entry.lastIndexOf(':');
  return colon < 0 ? entry : entry.slice(0, colon);
}

async function hasTags(metadata: MetadataStore, name: string): Promise<boolean> {
  return (await metadata.membersAfter(BuiltImageKeys.tags(name), undefined, 1)).length > 0;
}
