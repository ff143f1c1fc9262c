/**
 * Splits the part of a URL after `/v2/` into a repository name and an endpoint. Names contain
 * `/`, so the endpoint is found from the right: a reference or digest never contains `/`, which
 * keeps `manifests/manifests/latest` (a package called "manifests") unambiguous.
 */
export type V2Route =
  | { readonly kind: 'base' }
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: string }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: string }
  | { readonly kind: 'tags'; readonly name: string }
  | { readonly kind: 'upload'; readonly name: string }
  | { readonly kind: 'unknown' };

export function parseV2Path(rest: string): V2Route {
  if (rest === '') return { kind: 'base' };
  let match = /^(.+)\/manifests\/([^/]+)$/.exec(rest);
  if (match) return { kind: 'manifest', name: match[1] as string, reference: match[2] as string };
  match = /^(.+)\/blobs\/uploads(?:\/[^/]*)?$/.exec(rest);
  if (match) return { kind: 'upload', name: match[1] as string };
  match = /^(.+)\/blobs\/([^/]+)$/.exec(rest);
  if (match) return { kind: 'blob', name: match[1] as string, digest: match[2] as string };
  match = /^(.+)\/tags\/list$/.exec(rest);
  if (match) return { kind: 'tags', name: match[1] as string };
  return { kind: 'unknown' };
}
