/**
 * Pulls images from a registry over the distribution API the way a node's container runtime
 * does, and counts what each node downloads: the manifest (and the index before it, if the
 * registry answers with one), then the config and every layer blob the node does not hold yet,
 * by digest. Every blob is checked against its descriptor (size and sha256) before the node
 * counts it as held, so a short or wrong body fails the bench instead of being counted.
 * Gzip layers are also decompressed on the fly to count their uncompressed (tar) bytes.
 *
 * The transport is a `fetch`-shaped function, so a unit test can hand in a fake registry.
 */
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';

/** `fetch`'s shape as used here: GET with headers, a streamed body. */
export type Fetch = (url: string, init: { readonly headers: Record<string, string> }) => Promise<Response>;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** One layer of a pulled image, as the node saw it. */
export interface LayerPull {
  readonly digest: string;
  /** Size in the manifest (compressed). */
  readonly size: number;
  /** Position in the manifest, 0 = bottom. */
  readonly index: number;
  /** False when the node already held the digest (nothing was fetched). */
  readonly downloaded: boolean;
  /** Body bytes received for it (0 when not downloaded). */
  readonly bytes: number;
  /** Decompressed bytes of what was received (0 when not downloaded or not gzip). */
  readonly uncompressedBytes: number;
}

/** One pull by one node. */
export interface PullRecord {
  readonly node: string;
  /** `name:tag`. */
  readonly image: string;
  /** Bytes of the index (if any) and manifest bodies. */
  readonly manifestBytes: number;
  /** Bytes of the config blob, 0 when the node held it. */
  readonly configBytes: number;
  readonly layers: readonly LayerPull[];
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly architecture?: string; readonly os?: string };
}

/** Thrown when the registry's answer is not what a runtime would accept. */
export class PullError extends Error {}

/** The blob digests each node holds, and every pull so far. */
export class RealPuller {
  readonly records: PullRecord[] = [];
  private readonly held = new Map<string, Set<string>>();

  constructor(
    private readonly fetch: Fetch,
    /** `http://127.0.0.1:PORT`. */
    private readonly baseUrl: string,
    /** Platform picked from an index. */
    private readonly platform = { architecture: 'amd64', os: 'linux' },
  ) {}

  /** Pull `name:tag` onto `node`; resolves once every missing blob is downloaded and verified. */
  async pull(node: string, name: string, tag: string): Promise<PullRecord> {
    let held = this.held.get(node);
    if (!held) this.held.set(node, (held = new Set()));
    const accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');
    let { body, mediaType } = await this.manifest(name, tag, accept);
    let manifestBytes = body.length;
    if (mediaType === OCI_INDEX || mediaType === DOCKER_LIST) {
      const index = JSON.parse(body.toString('utf8')) as { manifests?: Descriptor[] };
      const entry = index.manifests?.find((m) => m.platform?.architecture === this.platform.architecture && m.platform?.os === this.platform.os);
      if (!entry) throw new PullError(`${name}:${tag}: the index has no ${this.platform.os}/${this.platform.architecture} manifest`);
      ({ body, mediaType } = await this.manifest(name, entry.digest, accept));
      manifestBytes += body.length;
    }
    if (mediaType !== OCI_MANIFEST && mediaType !== DOCKER_MANIFEST) throw new PullError(`${name}:${tag}: unexpected manifest type ${mediaType}`);
    const manifest = JSON.parse(body.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[] };
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new PullError(`${name}:${tag}: the manifest has no config or layers`);
    let configBytes = 0;
    if (!held.has(manifest.config.digest)) {
      configBytes = (await this.blob(name, manifest.config, false)).bytes;
      held.add(manifest.config.digest);
    }
    const layers: LayerPull[] = [];
    for (const [index, layer] of manifest.layers.entries()) {
      if (held.has(layer.digest)) {
        layers.push({ digest: layer.digest, size: layer.size, index, downloaded: false, bytes: 0, uncompressedBytes: 0 });
        continue;
      }
      const got = await this.blob(name, layer, /gzip/.test(layer.mediaType));
      held.add(layer.digest);
      layers.push({ digest: layer.digest, size: layer.size, index, downloaded: true, ...got });
    }
    const record = { node, image: `${name}:${tag}`, manifestBytes, configBytes, layers };
    this.records.push(record);
    return record;
  }

  private async manifest(name: string, reference: string, accept: string): Promise<{ body: Buffer; mediaType: string }> {
    const response = await this.fetch(`${this.baseUrl}/v2/${name}/manifests/${reference}`, { headers: { accept } });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new PullError(`${name}:${reference}: manifest answered ${response.status}: ${body.toString('utf8').slice(0, 300)}`);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    return { body, mediaType };
  }

  /** Download one blob, checking size and digest; gzip bodies are decompressed to count their bytes. */
  private async blob(name: string, descriptor: Descriptor, gzip: boolean): Promise<{ bytes: number; uncompressedBytes: number }> {
    const response = await this.fetch(`${this.baseUrl}/v2/${name}/blobs/${descriptor.digest}`, { headers: {} });
    if (response.status !== 200 || !response.body) {
      throw new PullError(`${name}: blob ${descriptor.digest} answered ${response.status}`);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    let uncompressedBytes = 0;
    const gunzip = gzip ? createGunzip() : null;
    const inflated = gunzip
      ? new Promise<void>((resolve, reject) => {
          gunzip.on('data', (chunk: Buffer) => (uncompressedBytes += chunk.length));
          gunzip.on('end', resolve);
          gunzip.on('error', reject);
        })
      : Promise.resolve();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      hash.update(value);
      if (gunzip && !gunzip.write(value)) await new Promise((resolve) => gunzip.once('drain', resolve));
    }
    gunzip?.end();
    try {
      await inflated;
    } catch (error) {
      throw new PullError(`${name}: blob ${descriptor.digest} is not valid gzip: ${(error as Error).message}`);
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (bytes !== descriptor.size) throw new PullError(`${name}: blob ${descriptor.digest}: got ${bytes} bytes, the manifest says ${descriptor.size}`);
    if (digest !== descriptor.digest) throw new PullError(`${name}: blob ${descriptor.digest}: the body hashes to ${digest}`);
    return { bytes, uncompressedBytes };
  }
}

/** What one node downloaded over the trace. */
export interface NodeDownloads {
  readonly node: string;
  readonly pulls: number;
  /** Layer blob bytes received (compressed), the top layer included. */
  readonly layerBytes: number;
  /** Of `layerBytes`, the bytes of each image's top layer (stowage's last layer). */
  readonly topLayerBytes: number;
  /** Decompressed bytes of the layers received. */
  readonly uncompressedBytes: number;
  /** Index, manifest and config bytes. */
  readonly metadataBytes: number;
  readonly layersDownloaded: number;
}

/** Per node, in order of first pull; `topLayerLast` says the last layer of every image is its top layer. */
export function downloadsByNode(records: readonly PullRecord[], topLayerLast = true): NodeDownloads[] {
  const out = new Map<string, { -readonly [K in keyof NodeDownloads]: NodeDownloads[K] }>();
  for (const record of records) {
    let node = out.get(record.node);
    if (!node) {
      node = { node: record.node, pulls: 0, layerBytes: 0, topLayerBytes: 0, uncompressedBytes: 0, metadataBytes: 0, layersDownloaded: 0 };
      out.set(record.node, node);
    }
    node.pulls += 1;
    node.metadataBytes += record.manifestBytes + record.configBytes;
    for (const layer of record.layers) {
      if (!layer.downloaded) continue;
      node.layersDownloaded += 1;
      node.layerBytes += layer.bytes;
      node.uncompressedBytes += layer.uncompressedBytes;
      if (topLayerLast && layer.index === record.layers.length - 1) node.topLayerBytes += layer.bytes;
    }
  }
  return [...out.values()];
}
