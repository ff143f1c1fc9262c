import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { createServer, connect as tcpConnect, type AddressInfo, type Server } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { run } from '../support/commands.js';
import { startContainerd, type Containerd } from '../support/containerd.js';
import { startDockerEngine, type DockerEngine } from '../support/docker-engine.js';

/**
 * Native TLS: the registry serves HTTPS from certificate files, clients that trust the CA pull
 * with no insecure settings (and refuse it without the CA: docker on a private address, since it
 * does not verify 127.0.0.0/8), HTTP/2 is offered, and a replaced certificate is picked up by new
 * connections without a restart.
 */
interface State {
  readonly ca: TestCa;
  readonly certFile: string;
  readonly keyFile: string;
  readonly registry: RunningRegistry;
  readonly containerd: Containerd;
  readonly docker: DockerEngine;
  readonly work: string;
  /** Passes TCP from PRIVATE_ADDRESS to the registry on 127.0.0.1 (TLS goes through untouched). */
  readonly forwarder: { readonly server: Server; readonly port: number };
}
let state: State;
let dockerCertsDir = '';
let addressAdded = false;

/** A private address the test adds to the loopback interface: dockerd does not treat it as insecure. */
const PRIVATE_ADDRESS = '10.213.87.1';

async function forward(from: string, to: string): Promise<{ server: Server; port: number }> {
  const [toHost, toPort] = to.split(':') as [string, string];
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(toPort), toHost);
    client.pipe(upstream).pipe(client);
    client.once('error', () => upstream.destroy());
    upstream.once('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, from, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

beforeAll(async () => {
  const ca = await createTestCa();
  const certFile = join(ca.dir, 'tls.crt');
  const keyFile = join(ca.dir, 'tls.key');
  await ca.issue(certFile, keyFile, [PRIVATE_ADDRESS]);
  // Removed in afterAll; a leftover from a killed run is replaced.
  await run('ip', ['addr', 'del', `${PRIVATE_ADDRESS}/32`, 'dev', 'lo']).catch(() => undefined);
  await run('ip', ['addr', 'add', `${PRIVATE_ADDRESS}/32`, 'dev', 'lo']);
  addressAdded = true;
  const [registry, containerd, docker] = await Promise.all([
    startRegistry({ server: { tlsCertFile: certFile, tlsKeyFile: keyFile } }),
    startContainerd(),
    startDockerEngine(),
  ]);
  const forwarder = await forward(PRIVATE_ADDRESS, registry.host);
  state = { ca, certFile, keyFile, registry, containerd, docker, forwarder, work: await mkdtemp(join(tmpdir(), 'stowage-tls-')) };
}, 120_000);

afterAll(async () => {
  if (dockerCertsDir) await rm(dockerCertsDir, { recursive: true, force: true });
  if (addressAdded) await run('ip', ['addr', 'del', `${PRIVATE_ADDRESS}/32`, 'dev', 'lo']).catch(() => undefined);
  if (!state) return;
  state.forwarder.server.close();
  await Promise.allSettled([state.registry.close(), state.containerd.stop(), state.docker.stop()]);
  await rm(state.work, { recursive: true, force: true });
  await rm(state.ca.dir, { recursive: true, force: true });
});

/** The certificate a new TLS connection is given, trusting only the test CA. */
async function peerSerial(port: string): Promise<string> {
  const ca = await readFile(state.ca.caFile);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca, servername: undefined }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('native TLS', () => {
  it('serves clients that trust the CA: skopeo (--src-cert-dir) and containerd (hosts.toml)', async () => {
    const { registry, containerd, work } = state;
    const image = `${registry.host}/hello:latest`;

    // skopeo refuses the server without the CA (so the rest proves the CA is what it trusts)...
    const refused = await run('skopeo', ['--insecure-policy', 'inspect', '--raw', `docker://${image}`]).then(() => 'pulled', (error: Error) => error.message);
    expect(refused).toMatch(/x509|certificate/);
    // ...and pulls with it, verifying.
    const certDir = join(work, 'skopeo-certs');
    await mkdir(certDir);
    await writeFile(join(certDir, 'ca.crt'), await readFile(state.ca.caFile));
    await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-cert-dir', certDir, `docker://${image}`, `oci:${join(work, 'layout')}:x`], { timeoutMs: 240_000 });
    expect(JSON.parse(await readFile(join(work, 'layout/index.json'), 'utf8')).manifests).toHaveLength(1);

    // containerd refuses it with a hosts.toml that names no CA, and pulls with one that names
    // the CA (no --plain-http, no --skip-verify).
    const hostsToml = (ca: string) => `server = "https://${registry.host}"\n\n[host."https://${registry.host}"]\n  capabilities = ["pull", "resolve"]\n${ca}`;
    const noCaDir = join(work, 'hosts-no-ca');
    await mkdir(join(noCaDir, registry.host), { recursive: true });
    await writeFile(join(noCaDir, registry.host, 'hosts.toml'), hostsToml(''));
    const ctrRefused = await containerd.ctr(['images', 'pull', '--hosts-dir', noCaDir, image]).then(() => 'pulled', (error: Error) => error.message);
    expect(ctrRefused).toMatch(/x509|certificate/);
    const hostsDir = join(work, 'hosts');
    await mkdir(join(hostsDir, registry.host), { recursive: true });
    await writeFile(join(hostsDir, registry.host, 'hosts.toml'), hostsToml(`  ca = "${state.ca.caFile}"\n`));
    await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir, image], 240_000);
    expect((await containerd.ctr(['images', 'ls', '-q'])).stdout).toContain(image);
  }, 300_000);

  it('docker verifies the certificate: refused without the CA in certs.d, pulls with it', async () => {
    // dockerd counts 127.0.0.0/8 as an insecure registry and skips verification there, so the
    // registry is reached on a private address of the loopback interface (traffic stays on
    // this machine), which dockerd verifies like any other registry.
    const { docker } = state;
    const host = `${PRIVATE_ADDRESS}:${state.forwarder.port}`;
    const image = `${host}/hello:latest`;
    const refused = await docker.docker(['pull', image], 120_000).then(() => 'pulled', (error: Error) => error.message);
    expect(refused).toMatch(/x509: certificate signed by unknown authority/);
    // docker reads /etc/docker/certs.d/<host:port>/ca.crt (there is no per-daemon directory);
    // this one is named by the test's own address and port, and removed afterwards.
    dockerCertsDir = join('/etc/docker/certs.d', host);
    await mkdir(dockerCertsDir, { recursive: true });
    await writeFile(join(dockerCertsDir, 'ca.crt'), await readFile(state.ca.caFile));
    await docker.docker(['pull', image], 240_000);
    expect((await docker.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toContain(image);
  }, 300_000);

  it('offers HTTP/2 and still answers HTTP/1.1', async () => {
    const { registry } = state;
    const ca = await readFile(state.ca.caFile);
    const session = http2Connect(`https://${registry.host}`, { ca });
    const answer = await new Promise<{ status: number; protocol: string | undefined }>((resolve, reject) => {
      const stream = session.request({ ':path': '/healthz', ':method': 'GET' });
      stream.once('response', (headers) => resolve({ status: Number(headers[':status']), protocol: session.alpnProtocol }));
      stream.once('error', reject);
      stream.resume();
    });
    session.close();
    expect(answer).toEqual({ status: 200, protocol: 'h2' });
    const http1 = await fetch(`https://${registry.host}/healthz`).then(() => 'trusted', (error: Error) => String(error.cause ?? error));
    // Node's fetch trusts only the system CAs: refusing the test CA is the expected answer.
    expect(http1).toMatch(/certificate|self.signed|issuer/i);
    const viaCurl = await run('curl', ['--silent', '--http1.1', '--cacert', state.ca.caFile, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://${registry.host}/healthz`]);
    expect(viaCurl.stdout).toBe('1.1 200');
  });

  it('reloads a replaced certificate: new connections get the new one', async () => {
    const [, port] = state.registry.host.split(':') as [string, string];
    const before = await peerSerial(port);
    await state.ca.issue(state.certFile, state.keyFile);
    let after = before;
    for (let waited = 0; waited < 10_000 && after === before; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await peerSerial(port);
    }
    expect(after).not.toBe(before);
    // And the server keeps serving with it.
    const viaCurl = await run('curl', ['--silent', '--cacert', state.ca.caFile, '-o', '/dev/null', '-w', '%{http_code}', `https://${state.registry.host}/healthz`]);
    expect(viaCurl.stdout).toBe('200');
  });
});
