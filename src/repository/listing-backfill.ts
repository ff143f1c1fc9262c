import type { MetadataStore } from '../storage/types.js';
import { PushedRepositoryKeys } from '../storage/metadata-keys.js';

const Keys = PushedRepositoryKeys;
const MARKER_PREFIX = Keys.repo('');

/**
 * The catalog lists repositories from the `repositories` set, which older versions did not
 * write: a repository pushed before it existed has only its `repo:<name>` marker. This adds
 * every marked repository to the set, once per store: the scan pages through the value keys
 * (memory stays bounded), adds only names not yet listed (idempotent, safe beside pushes and
 * beside other replicas doing the same), and then writes a marker so later starts skip it.
 */
export class RepositoryListingBackfill {
  private running: Promise<number> | null = null;
  private done = false;

  constructor(private readonly metadata: MetadataStore) {}

  /**
   * Resolves once every marked repository is listed, with how many names this call added (0
   * when already done). Concurrent calls share one scan; a failed scan (store unavailable) is
   * tried again by the next call.
   */
  ensure(signal?: AbortSignal): Promise<number> {
    if (this.done) return Promise.resolve(0);
    this.running ??= this.scan(signal).then(
      (added) => {
        this.done = true;
        return added;
      },
      (error: unknown) => {
        this.running = null;
        throw error;
      },
    );
    return this.running;
  }

  private async scan(signal?: AbortSignal): Promise<number> {
    if ((await this.metadata.get(Keys.listingComplete)) !== null) return 0;
    // A store that cannot list keys has no old records to find: nothing to add.
    if (this.metadata.valueKeys === undefined) return 0;
    let added = 0;
    for await (const key of this.metadata.valueKeys(MARKER_PREFIX, signal)) {
      const name = key.slice(MARKER_PREFIX.length);
      if (name === '' || (await this.metadata.isMember(Keys.repositories, name))) continue;
      await this.metadata.addToSet(Keys.repositories, name);
      added += 1;
    }
    await this.metadata.set(Keys.listingComplete, new Date().toISOString());
    return added;
  }
}
