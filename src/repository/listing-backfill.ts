import type { MetadataStore } from '../storage/types.js';
import { PushedRepositoryKeys } from '../storage/metadata-keys.js';
import { OneTimeMigration } from '../storage/one-time-migration.js';

const Keys = PushedRepositoryKeys;
const MARKER_PREFIX = Keys.repo('');

/**
 * The catalog lists repositories from the `repositories` set, which older versions did not
 * write: a repository pushed before it existed has only its `repo:<name>` marker. This adds
 * every marked repository to the set, once per store: the scan pages through the value keys
 * (memory stays bounded) and adds only names not yet listed (idempotent, safe beside pushes
 * and beside other replicas doing the same).
 */
export class RepositoryListingBackfill extends OneTimeMigration {
  constructor(metadata: MetadataStore) {
    super(metadata, Keys.listingComplete, async (signal) => {
      // A store that cannot list keys has no old records to find: nothing to add.
      if (metadata.valueKeys === undefined) return 0;
      let added = 0;
      for await (const key of metadata.valueKeys(MARKER_PREFIX, signal)) {
        const name = key.slice(MARKER_PREFIX.length);
        if (name === '' || (await metadata.isMember(Keys.repositories, name))) continue;
        await metadata.addToSet(Keys.repositories, name);
        added += 1;
      }
      return added;
    });
  }
}
