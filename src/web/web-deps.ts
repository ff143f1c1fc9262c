import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ImageBuilder } from '../builder/image-builder.js';
import { parseImageName, type ImageNameOptions, type ParsedImageName } from '../image-name/image-name.js';
import type { PackageSource } from '../sources/types.js';
import type { BlobStore } from '../storage/types.js';
import type { BuiltImageReader } from '../builder/built-images.js';
import { isValidTag } from '../oci/reference.js';
import { RegistryError } from '../registry/registry-error.js';
import type { PushedRepositoryReader } from './repository-view.js';

/** What the web UI's routes need. */
export interface WebDeps {
  readonly builder: Pick<ImageBuilder, 'build' | 'find' | 'pending' | 'tracker' | 'queueFull'>;
  readonly blobs: BlobStore;
  /** What built images serve: the builder's read model. */
  readonly images: BuiltImageReader;
  readonly source: PackageSource;
  readonly imageNames: ImageNameOptions;
  /** `host[:port]` users pull from; empty = the Host header of the request. */
  readonly publicHost: string;
  /** Directory of index.html, image.html and static/. */
  readonly publicDir: string;
  /** Content pushed by clients, shown as repositories with tags rather than as package lists. */
  readonly repositories: PushedRepositoryReader;
  /**
   * Whether the registry serves `name` from pushes (registry/pull-handlers.ts servedFromPushes):
   * a name pushed to before it became a package list is built, and the UI must say the same.
   */
  readonly servedFromPushes: (name: string) => Promise<boolean>;
  /** What the registry's routes would let the caller do (the Delete buttons): registry/route-permission.ts. */
  readonly permissions: WebPermissions;
}

export interface Permission {
  readonly allowed: boolean;
  /** Why not, for the page to say. */
  readonly reason?: string;
  /** Other credentials could change the answer (the page offers to sign in). */
  readonly signIn?: boolean;
}

export interface WebPermissions {
  /** Whether the registry's `DELETE /v2/<name>/manifests/<reference>` would let this request's credentials through. */
  mayDelete(request: FastifyRequest, name: string): Promise<Permission>;
  /** Whether the caller the access control let through may pull `name` (what lists show and pages open). */
  mayPull(request: FastifyRequest, name: string): boolean;
  /** @throws RegistryError DENIED when the caller may not pull `name` (the registry's own words). */
  assertMayPull(request: FastifyRequest, name: string): void;
  /** @throws RegistryError DENIED when the caller may not pull the built image under one of its spellings. */
  assertMayPullImage(request: FastifyRequest, image: ParsedImageName): void;
  /** Up to `limit` names after `last` from `names` (ascending) that the caller may pull. */
  pullableNames(request: FastifyRequest, names: (after: string | undefined, limit: number) => Promise<string[]>, last: string | undefined, limit: number): Promise<string[]>;
}

/** The image named by a wildcard route and `?tag=` (default `latest`). @throws RegistryError, InvalidImageNameError */
export function imageFromRequest(request: FastifyRequest<{ Params: { '*': string }; Querystring: { tag?: string } }>, options: ImageNameOptions): ParsedImageName {
  const tag = request.query.tag ?? 'latest';
  if (!isValidTag(tag)) throw new RegistryError('TAG_INVALID', `"${tag}" is not a valid tag`);
  return parseImageName(request.params['*'], tag, options);
}

/**
 * A signal that aborts when the client goes away before its response is complete, for work
 * done on its behalf. The reason is the error table's 499, so it is logged as a refused request,
 * not as a server failure.
 */
export function requestSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new RegistryError('CLIENT_WENT_AWAY', 'the client went away'));
  });
  return controller.signal;
}
