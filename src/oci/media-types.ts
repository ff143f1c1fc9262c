/** Media types of the OCI image spec and of Docker's image manifest v2 schema 2. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export type ManifestFormat = 'oci' | 'docker';
export type LayerCompression = 'gzip' | 'zstd';

/** Layer media type for a manifest format and compression; null when the pair does not exist. */
export function layerMediaType(format: ManifestFormat, compression: LayerCompression): string | null {
  if (format === 'oci') return compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd;
  return compression === 'gzip' ? MediaType.dockerLayerGzip : null;
}
