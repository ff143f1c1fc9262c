import { MediaType, type ManifestFormat } from '../oci/media-types.js';

/**
 * Content negotiation for manifests. Accept headers may arrive as one comma-joined line
 * (containerd) or as several lines (skopeo); a missing header or `*\/*` accepts anything.
 */
function acceptedTypes(accept: string | readonly string[] | undefined): Set<string> {
  const joined = typeof accept === 'string' ? accept : (accept ?? []).join(',');
  return new Set(
    joined
      .split(',')
      .map((item) => item.split(';')[0]?.trim().toLowerCase() ?? '')
      .filter((item) => item !== ''),
  );
}

function acceptsAnything(types: ReadonlySet<string>): boolean {
  return types.size === 0 || types.has('*/*');
}

/**
 * Which image manifest format to serve: OCI unless the client accepts Docker schema 2 and not
 * the OCI manifest (older Docker clients).
 */
export function manifestFormatFor(accept: string | readonly string[] | undefined): ManifestFormat {
  const types = acceptedTypes(accept);
  if (types.has(MediaType.dockerManifest) && !types.has(MediaType.ociManifest)) return 'docker';
  return 'oci';
}

/**
 * Which index format a client takes for a multi-platform image: the OCI index, the Docker
 * manifest list, or null when it accepts neither (it then gets its default platform's manifest).
 */
export function indexFormatFor(accept: string | readonly string[] | undefined): ManifestFormat | null {
  const types = acceptedTypes(accept);
  if (acceptsAnything(types) || types.has(MediaType.ociIndex)) return 'oci';
  if (types.has(MediaType.dockerManifestList)) return 'docker';
  return null;
}
