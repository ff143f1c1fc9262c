/**
 * Splits the part of a URL after `/v2/` into a repository name and an endpoint. Names contain
 * `/`, so the endpoint is found from the right: a reference, digest or upload id never contains
 * `/`, which keeps `manifests/manifests/latest` (a package called "manifests") unambiguous.
 */
export type V2Route =
  | { readonly kind: 'base' }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: string }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: string }
  | { readonly kind: 'tags'; readonly name: string }
  | { readonly kind: 'uploads'; readonly name: string }
  | { readonly kind: 'upload'; readonly name: string; readonly id: string }
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: string }
  | { readonly kind: 'unknown' };

export function parseV2Path(rest: string): V2Route {
  const path = rest.split('?')[0] ?? '';
  if (path === '') return { kind: 'base' };
  // `_catalog` cannot be a repository name (names start with a letter or digit).
  if (path === '_catalog') return { kind: 'catalog' };
  let match = /^(.+)\/manifests\/([^/]+)$/.exec(path);
  if (match) return { kind: 'manifest', name: match[1] as string, reference: match[2] as string };
  match = /^(.+)\/blobs\/uploads\/?$/.exec(path);
  if (match) return { kind: 'uploads', name: match[1] as string };
  match = /^(.+)\/blobs\/uploads\/([^/]+)$/.exec(path);
  if (match) return { kind: 'upload', name: match[1] as string, id: match[2] as string };
  match = /^(.+)\/blobs\/([^/]+)$/.exec(path);
  if (match) return { kind: 'blob', name: match[1] as string, digest: match[2] as string };
  match = /^(.+)\/tags\/list$/.exec(path);
  if (match) return { kind: 'tags', name: match[1] as string };
  match = /^(.+)\/referrers\/([^/]+)$/.exec(path);
  if (match) return { kind: 'referrers', name: match[1] as string, digest: match[2] as string };
  return { kind: 'unknown' };
}
