import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * One request with the path sent exactly as given (no normalisation of `%76`, `//` or `..`, which
 * fetch would do), on a fresh connection.
 */
export function rawRequest(
  host: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer | string | Iterable<Buffer> } = {},
): Promise<RawResponse> {
  const [hostname, port] = host.split(':');
  const headers: Record<string, string> = { ...options.headers };
  // Node sends a GET, HEAD, DELETE or OPTIONS body without framing unless told its length.
  if ((typeof options.body === 'string' || Buffer.isBuffer(options.body)) && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = String(Buffer.byteLength(options.body));
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: hostname, port: Number(port), method, path, headers, agent: false, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error(`${method} ${path} timed out`)));
    const body = options.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) request.end(body);
    else {
      for (const chunk of body) request.write(chunk);
      request.end();
    }
  });
}

/** Bytes written on a socket as they are (a request line Node's client would refuse to send). */
export function rawSocketExchange(host: string, bytes: string): Promise<string> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('close', () => resolve(response));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw exchange timed out')));
  });
}

/** The first error code when the response is an OCI error envelope with a JSON content type, else null. */
export function envelopeCode(response: RawResponse): string | null {
  if (!String(response.headers['content-type'] ?? '').startsWith('application/json')) return null;
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = parsed.errors?.[0];
    return typeof first?.code === 'string' && typeof first.message === 'string' ? first.code : null;
  } catch {
    return null;
  }
}

export const basicAuth = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
