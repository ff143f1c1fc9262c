import { connect as http2Connect, constants as http2 } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnContainerd, stopContainerd } from './containerd.js';

/** The CRI's AuthConfig, as the kubelet fills it from an imagePullSecret. */
export interface CriAuth {
  readonly username?: string;
  readonly password?: string;
  /** An identity token: containerd sends it as a refresh token (`grant_type=refresh_token`). */
  readonly identityToken?: string;
}

export interface CriContainerd {
  /** `runtime.v1.ImageService/PullImage`: the image reference containerd stored, or the gRPC error. */
  pullImage(image: string, auth?: CriAuth): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A private containerd with its CRI plugin on (as on a Kubernetes node), its own root, state
 * and socket, and `registryHosts` served over plain HTTP through `hosts.toml` under the CRI's
 * `config_path`. Pods cannot run in this sandbox; image pulls, which is what imagePullSecrets
 * are about, work.
 */
export async function startCriContainerd(registryHosts: readonly string[]): Promise<CriContainerd> {
  const dir = await mkdtemp(join(tmpdir(), 'cri-'));
  const socket = join(dir, 'c.sock');
  const hostsDir = join(dir, 'hosts');
  for (const host of registryHosts) {
    await mkdir(join(hostsDir, host), { recursive: true });
    await writeFile(join(hostsDir, host, 'hosts.toml'), `server = "http://${host}"\n\n[host."http://${host}"]\n  capabilities = ["pull", "resolve"]\n`);
  }
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      '[grpc]',
      `  address = "${socket}"`,
      '[plugins."io.containerd.grpc.v1.cri".registry]',
      `  config_path = "${hostsDir}"`,
      '[plugins."io.containerd.grpc.v1.cri".cni]',
      `  bin_dir = "${join(dir, 'cni-bin')}"`,
      `  conf_dir = "${join(dir, 'cni-conf')}"`,
      '',
    ].join('\n'),
  );
  const daemon = await spawnContainerd(config, socket, 30_000);
  return {
    async pullImage(image, auth) {
      const request = [field(1, field(1, image))];
      if (auth !== undefined) {
        const parts = [auth.username !== undefined ? field(1, auth.username) : null, auth.password !== undefined ? field(2, auth.password) : null, auth.identityToken !== undefined ? field(5, auth.identityToken) : null];
        request.push(field(2, Buffer.concat(parts.filter((part): part is Buffer => part !== null))));
      }
      const answer = await unaryCall(socket, '/runtime.v1.ImageService/PullImage', Buffer.concat(request));
      return stringField(answer, 1);
    },
    stop: () => stopContainerd(daemon, dir),
  };
}

/** One unary gRPC call over the unix socket (HTTP/2, length-prefixed protobuf, status in the trailers). */
function unaryCall(socket: string, path: string, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const session = http2Connect('http://localhost', { createConnection: () => netConnect(socket) });
    session.once('error', reject);
    const stream = session.request({ [http2.HTTP2_HEADER_METHOD]: 'POST', [http2.HTTP2_HEADER_PATH]: path, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let statusMessage = '';
    const noteStatus = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] !== undefined) {
        status = String(headers['grpc-status']);
        statusMessage = decodeURIComponent(String(headers['grpc-message'] ?? ''));
      }
    };
    stream.on('response', noteStatus);
    stream.on('trailers', noteStatus);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => {
      session.close();
      if (status !== '0') {
        reject(new Error(`grpc status ${status ?? '(none)'}: ${statusMessage}`));
        return;
      }
      const body = Buffer.concat(chunks);
      resolve(body.subarray(5, 5 + body.readUInt32BE(1)));
    });
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(message.length, 1);
    stream.end(Buffer.concat([frame, message]));
  });
}

/** A length-delimited protobuf field (strings and nested messages). */
function field(number: number, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** The first length-delimited field `number` of a message, as a string ('' when absent). */
function stringField(message: Buffer, number: number): string {
  let at = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const byte = message[at] as number;
      at += 1;
      result += (byte & 0x7f) * shift;
      if (byte < 0x80) return result;
      shift *= 128;
    }
  };
  while (at < message.length) {
    const key = readVarint();
    if ((key & 7) !== 2) throw new Error(`unexpected protobuf wire type ${key & 7}`);
    const length = readVarint();
    if (key >> 3 === number) return message.subarray(at, at + length).toString('utf8');
    at += length;
  }
  return '';
}
