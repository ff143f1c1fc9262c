import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore } from '../storage/types.js';
import type { BuiltImage } from '../builder/image-builder.js';
import type { BuildTracker } from '../builder/build-tracker.js';
import type { BuiltImageReader } from '../builder/built-images.js';
import type { ImageNameOptions, ParsedImageName } from '../image-name/image-name.js';
import type { Descriptor } from '../oci/manifest-validation.js';
import type { PushDecision } from '../repository/push-namespaces.js';
import type { StoredManifest } from '../repository/pushed-repositories.js';
import type { UploadSession } from '../repository/upload-sessions.js';
import type { AuthOptions } from './access-control.js';

/** Builds images on demand (ImageBuilder). */
export interface ImageBuilding {
  /** `client`: the address a build this starts is counted against (builds.maxPerClient). */
  buildWithin(image: ParsedImageName, waitMs: number, client?: string): Promise<BuiltImage>;
  /** The image a pull by tag verified moments ago, asking no store; null when there is none. */
  recentlyVerified?(image: ParsedImageName): Promise<BuiltImage | null>;
  readonly tracker: BuildTracker;
}

/** Pushed content by repository (PushedRepositories); see there for each method's contract. */
export interface PushedRepositoryStore {
  isPushed(name: string): Promise<boolean>;
  linkBlob(name: string, digest: string): Promise<void>;
  hasBlob(name: string, digest: string): Promise<boolean>;
  linksBlob(name: string, digest: string): Promise<boolean>;
  unlinkBlob(name: string, digest: string): Promise<boolean>;
  putManifest(name: string, reference: string, body: Buffer, contentType: string | undefined): Promise<{ digest: string; subject?: string }>;
  getManifest(name: string, reference: string): Promise<StoredManifest | null>;
  deleteManifest(name: string, reference: string): Promise<void>;
  tags(name: string): Promise<string[]>;
  /** Up to `limit` repository names sorting after `after`, ascending. */
  names(after: string | undefined, limit: number): Promise<string[]>;
  referrers(name: string, digest: string, artifactType?: string): Promise<Descriptor[]>;
}

/** Chunked upload sessions (UploadSessions). */
export interface UploadSessionStore {
  /** `owner`: the user starting it, whose open sessions are bounded too. */
  create(name: string, owner?: string): Promise<UploadSession>;
  /** The rest answer only `owner`, the user who started the session (others: unknown). */
  get(name: string, id: string, owner: string): Promise<UploadSession>;
  append(name: string, id: string, owner: string, body: Readable, range: { start: number; end: number } | null, length: number | null): Promise<UploadSession>;
  finish(name: string, id: string, owner: string, digest: string, body: Readable | null, length: number | null): Promise<BlobInfo>;
  cancel(name: string, id: string, owner: string): Promise<void>;
}

/** Which names may be pushed to (PushNamespaces). */
export interface PushPolicy {
  decide(name: string, signal?: AbortSignal): Promise<PushDecision>;
  /** True when `name` is never built (it lies in or names a push namespace). */
  isReserved(name: string): boolean;
}

/** What the HTTP layer needs, as interfaces and plain settings. */
export interface RegistryDeps {
  readonly builder: ImageBuilding;
  readonly blobs: BlobStore;
  /** What built images serve: the builder's read model. */
  readonly images: BuiltImageReader;
  readonly imageNames: ImageNameOptions;
  /** How long a manifest request waits for a running build before 503 with Retry-After. */
  readonly requestWaitMs: number;
  readonly repositories: PushedRepositoryStore;
  readonly pushPolicy: PushPolicy;
  readonly uploads: UploadSessionStore;
  readonly deletesEnabled: boolean;
  readonly auth: AuthOptions;
  /** A request body that sends nothing for this long is answered 408 and its connection closed. */
  readonly bodyIdleTimeoutMs?: number;
  /** Notes pulls of built images by tag, so images nobody pulls expire (gc.imageRecordTtlMs). */
  readonly pulls?: { record(canonicalName: string): Promise<void> };
  /**
   * Behind a front proxy that sends files (server.accelRedirectPrefix): the proxy's internal URI
   * of a blob's file, or null for a digest it cannot serve. Absent = stowage sends every blob.
   */
  readonly accelRedirect?: (digest: string) => string | null;
  /** The revisions (tags) the package source can build, listed by `tags/list` of a buildable name. */
  readonly revisions?: (signal?: AbortSignal) => Promise<string[]>;
}
