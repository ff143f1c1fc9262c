import { sha256Digest } from '../../src/oci/digest.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export interface PushedImage {
  readonly digest: string;
  /** Config plus layer bytes. */
  readonly size: number;
}

/**
 * Push a small image over HTTP as a client would (monolithic blob uploads, then the manifest):
 * a config of about `configBytes` and one layer of `layerBytes`, under `tag`.
 */
export async function pushSmallImage(
  url: string,
  name: string,
  tag: string,
  options: { readonly authorization: string; readonly configBytes: number; readonly layerBytes: number; readonly architecture?: string },
): Promise<PushedImage> {
  const { blobs, manifest } = smallImage(options);
  for (const blob of blobs) {
    const response = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${sha256Digest(blob)}`, {
      method: 'POST',
      headers: { authorization: options.authorization, 'content-type': 'application/octet-stream' },
      body: blob,
    });
    if (response.status !== 201) throw new Error(`blob upload to ${name}: ${response.status} ${await response.text()}`);
  }
  await putManifest(url, name, tag, manifest, OCI_MANIFEST, options.authorization);
  return { digest: sha256Digest(manifest), size: blobs.reduce((total, blob) => total + blob.length, 0) };
}

/** The blobs (config, then one layer) and OCI manifest of a small image, for pushing however a test pushes. */
export function smallImage(options: { readonly configBytes: number; readonly layerBytes: number; readonly architecture?: string }): { blobs: [Buffer, Buffer]; manifest: Buffer } {
  const architecture = options.architecture ?? 'amd64';
  const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, pad: 'c'.repeat(options.configBytes) }));
  const layer = Buffer.alloc(options.layerBytes, architecture);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Digest(layer), size: layer.length }],
    }),
  );
  return { blobs: [config, layer], manifest };
}

/** Push an OCI index of images already in the repository; returns its digest. */
export async function pushIndex(url: string, name: string, tag: string, children: ReadonlyArray<{ digest: string; architecture: string }>, authorization: string): Promise<string> {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((child) => ({ mediaType: OCI_MANIFEST, digest: child.digest, size: 1, platform: { os: 'linux', architecture: child.architecture } })),
    }),
  );
  await putManifest(url, name, tag, index, OCI_INDEX, authorization);
  return sha256Digest(index);
}

async function putManifest(url: string, name: string, tag: string, body: Buffer, mediaType: string, authorization: string): Promise<void> {
  const response = await fetch(`${url}/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { authorization, 'content-type': mediaType }, body });
  if (response.status !== 201) throw new Error(`manifest PUT ${name}:${tag}: ${response.status} ${await response.text()}`);
}
