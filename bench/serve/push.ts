import { createHash, randomBytes } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Push a blob with a POST and a monolithic PUT, which both registries take. */
export async function pushBlob(url: string, name: string, data: Buffer, headers: Record<string, string>): Promise<string> {
  const digest = sha256(data);
  const started = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST', headers });
  const location = started.headers.get('location');
  if (started.status !== 202 || !location) throw new Error(`upload to ${url} not started: ${started.status} ${await started.text()}`);
  const target = new URL(location, url);
  target.searchParams.set('digest', digest);
  const put = await fetch(target, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: data });
  if (put.status !== 201) throw new Error(`blob PUT to ${url} failed: ${put.status} ${await put.text()}`);
  return digest;
}

export interface PushedImage {
  readonly manifest: Buffer;
  readonly digest: string;
  readonly layerDigest: string;
  readonly layerBytes: number;
}

/** An image whose one layer is `layerBytes` random bytes; the same bytes for every registry. */
export function makeBenchImage(layerBytes: number): { layer: Buffer; config: Buffer; manifest: (layerDigest: string, configDigest: string) => Buffer } {
  const layer = randomBytes(layerBytes);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} }));
  return {
    layer,
    config,
    manifest: (layerDigest, configDigest) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
        }),
      ),
  };
}

export async function pushImage(url: string, name: string, image: ReturnType<typeof makeBenchImage>, headers: Record<string, string>): Promise<PushedImage> {
  const layerDigest = await pushBlob(url, name, image.layer, headers);
  const configDigest = await pushBlob(url, name, image.config, headers);
  const manifest = image.manifest(layerDigest, configDigest);
  const put = await fetch(`${url}/v2/${name}/manifests/v1`, { method: 'PUT', headers: { ...headers, 'content-type': OCI_MANIFEST }, body: manifest });
  if (put.status !== 201) throw new Error(`manifest PUT to ${url} failed: ${put.status} ${await put.text()}`);
  return { manifest, digest: sha256(manifest), layerDigest, layerBytes: image.layer.length };
}
