import { parseImageName } from '../builder/image-name.js';
import { MetadataKeys } from '../builder/records.js';
import { RegistryError } from './registry-error.js';
import type { RegistryDeps } from './v2-routes.js';

export interface TagPage {
  readonly body: { readonly name: string; readonly tags: readonly string[] };
  /** Value of the `Link` header pointing at the next page, when there is one. */
  readonly link: string | null;
}

/**
 * `GET /v2/<name>/tags/list`: the revisions an image has been built for, sorted, with the spec's
 * `n` and `last` pagination.
 */
export async function listTags(deps: RegistryDeps, name: string, query: { n?: string; last?: string }): Promise<TagPage> {
  const image = parseImageName(name, 'latest', deps.imageNames);
  const all = await deps.metadata.members(MetadataKeys.tags(image.canonicalName));
  if (all.length === 0) {
    throw new RegistryError('NAME_UNKNOWN', `no image named ${image.canonicalName} has been built yet`, { name: image.canonicalName });
  }
  const { last } = query;
  let tags = last === undefined ? all : all.filter((tag) => tag > last);
  let link: string | null = null;
  if (query.n !== undefined) {
    const n = Number(query.n);
    if (!/^\d+$/.test(query.n) || !Number.isSafeInteger(n)) {
      throw new RegistryError('UNSUPPORTED', 'query parameter "n" must be a non-negative integer', { n: query.n }, {}, 400);
    }
    if (tags.length > n) {
      tags = tags.slice(0, n);
      const next = new URLSearchParams({ n: String(n), last: tags[tags.length - 1] ?? '' });
      link = `</v2/${name}/tags/list?${next}>; rel="next"`;
    }
  }
  return { body: { name, tags }, link };
}
