import { MediaType, type ManifestFormat } from '../oci/media-types.js';

/**
 * Which manifest format to serve for an `Accept` header. OCI unless the client accepts Docker
 * schema 2 and not the OCI manifest (older Docker and containerd clients); a missing header or
 * `*\/*` means OCI. Headers may arrive as one comma-joined line or as several lines.
 */
export function manifestFormatFor(accept: string | readonly string[] | undefined): ManifestFormat {
  const joined = typeof accept === 'string' ? accept : (accept ?? []).join(',');
  const types = new Set(
    joined
      .split(',')
      .map((item) => item.split(';')[0]?.trim().toLowerCase() ?? '')
      .filter((item) => item !== ''),
  );
  if (types.has(MediaType.dockerManifest) && !types.has(MediaType.ociManifest)) return 'docker';
  return 'oci';
}
