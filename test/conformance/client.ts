import { createHash, randomBytes } from 'node:crypto';

/** A minimal HTTP client for the distribution API, with optional Basic credentials. */
export interface ConformanceTarget {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Repository under test; a second one is derived from it for cross-repository mounts. */
  readonly namespace: string;
}

export interface Response {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  json<T = unknown>(): T;
  /** The first error code of an OCI error body, or undefined. */
  errorCode(): string | undefined;
}

export class Client {
  constructor(private readonly target: ConformanceTarget) {}

  async request(method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.target.username !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${this.target.username}:${this.target.password ?? ''}`).toString('base64')}`;
    }
    const url = path.startsWith('http') ? path : `${this.target.url.replace(/\/$/, '')}${path}`;
    const response = await fetch(url, { method, headers, body: options.body, redirect: 'follow', signal: AbortSignal.timeout(60_000) });
    const body = Buffer.from(await response.arrayBuffer());
    return {
      status: response.status,
      headers: response.headers,
      body,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
      errorCode: () => {
        try {
          return (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string }> }).errors?.[0]?.code;
        } catch {
          return undefined;
        }
      },
    };
  }

  /** A Location header resolved against the registry URL. */
  location(response: Response): string {
    const location = response.headers.get('location');
    if (location === null) throw new Error(`no Location header (status ${response.status})`);
    return new URL(location, this.target.url).toString();
  }
}

export function digestOf(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Test content: a config, two layers and an image manifest over them. */
export function makeImage(seed: string): { config: Buffer; layers: Buffer[]; manifest: Buffer } {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
  const layers = [randomBytes(2048), randomBytes(5000)];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layer), size: layer.length })),
    }),
  );
  return { config, layers, manifest };
}
