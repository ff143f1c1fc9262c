import type { BlobStore, MetadataStore } from '../storage/types.js';
import type { ImageBuilder } from '../builder/image-builder.js';
import type { ImageNameOptions } from '../image-name/image-name.js';
import type { PushedRepositories } from '../repository/pushed-repositories.js';
import type { UploadSessions } from '../repository/upload-sessions.js';
import type { AuthOptions } from './access-control.js';

/** What the HTTP layer needs, as interfaces and plain settings. */
export interface RegistryDeps {
  readonly builder: Pick<ImageBuilder, 'buildWithin' | 'tracker'>;
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly imageNames: ImageNameOptions;
  /** How long a manifest request waits for a running build before 503 with Retry-After. */
  readonly requestWaitMs: number;
  readonly repositories: PushedRepositories;
  readonly uploads: UploadSessions;
  readonly deletesEnabled: boolean;
  readonly auth: AuthOptions;
}
