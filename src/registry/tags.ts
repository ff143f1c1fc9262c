import { RegistryError } from './registry-error.js';

export interface TagPage {
  readonly tags: readonly string[];
  /** Value of the `Link` header pointing at the next page, when there is one. */
  readonly link: string | null;
}

/** The spec's `n` and `last` pagination over sorted tags. */
export function paginateTags(all: readonly string[], name: string, query: { n?: string; last?: string }): TagPage {
  const { last } = query;
  let tags = last === undefined ? [...all] : all.filter((tag) => tag > last);
  let link: string | null = null;
  if (query.n !== undefined) {
    const n = Number(query.n);
    if (!/^\d+$/.test(query.n) || !Number.isSafeInteger(n)) {
      throw new RegistryError('BAD_REQUEST', 'query parameter "n" must be a non-negative integer', { n: query.n });
    }
    if (n === 0) tags = [];
    else if (tags.length > n) {
      tags = tags.slice(0, n);
      const next = new URLSearchParams({ n: String(n), last: tags[tags.length - 1] ?? '' });
      link = `</v2/${name}/tags/list?${next}>; rel="next"`;
    }
  }
  return { tags, link };
}
