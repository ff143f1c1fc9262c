import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { pino } from 'pino';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { basicAuth, rawRequest } from '../support/raw-http.js';

/**
 * Issue 14 point 4: no request waits forever. A body that stops arriving is answered 408 with
 * `Connection: close` after `server.bodyIdleTimeoutMs` and the connection is closed; nothing of
 * it is kept.
 */
function stalledRequest(host: string, head: string, partialBody: string): Promise<{ response: string; closed: boolean }> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head + partialBody));
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('close', () => resolve({ response, closed: true }));
    socket.on('error', reject);
    // Only a safety net for a server that never answers: the test then fails on `closed`.
    socket.setTimeout(20_000, () => {
      socket.destroy();
      resolve({ response, closed: false });
    });
  });
}

describe('stalled request bodies', () => {
  let registry: RunningRegistry;
  const auth = basicAuth(TEST_USER, TEST_PASSWORD);
  /** The registry's log records: a cut is expected, so none of them may be an error. */
  const logged: Array<{ level: number; msg: string }> = [];
  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) });
    registry = await startRegistry({ server: { bodyIdleTimeoutMs: 300 }, auth: { htpasswdFile: await writeHtpasswd() } }, { source: await FakePackageSource.create(), logger });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('cuts a stalled chunk upload with 408 and keeps none of it', async () => {
    const start = await rawRequest(registry.host, 'POST', '/v2/team/stall/blobs/uploads/', { headers: { authorization: auth } });
    expect(start.status).toBe(202);
    const location = String(start.headers.location);
    const head = `PATCH ${location} HTTP/1.1\r\nHost: ${registry.host}\r\nAuthorization: ${auth}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n`;
    const { response, closed } = await stalledRequest(registry.host, head, 'x'.repeat(10));
    expect(closed).toBe(true);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toContain('"code":"UNSUPPORTED"');
    const status = await rawRequest(registry.host, 'GET', location, { headers: { authorization: auth } });
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe('0-0');
  });

  it('cuts a stalled manifest PUT, and a chunked body that stops', async () => {
    const put = `PUT /v2/team/stall/manifests/v1 HTTP/1.1\r\nHost: ${registry.host}\r\nAuthorization: ${auth}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 500\r\n\r\n`;
    const manifest = await stalledRequest(registry.host, put, '{"schemaVersion":');
    expect(manifest.closed).toBe(true);
    expect(manifest.response).toMatch(/^HTTP\/1\.1 408 /);
    const chunked = `PUT /v2/team/stall/manifests/v2 HTTP/1.1\r\nHost: ${registry.host}\r\nAuthorization: ${auth}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const cut = await stalledRequest(registry.host, chunked, '5\r\n{"sch\r\n');
    expect(cut.closed).toBe(true);
    expect(cut.response).toMatch(/^HTTP\/1\.1 408 /);
    expect((await rawRequest(registry.host, 'GET', '/v2/team/stall/manifests/v1')).status).toBe(404);
  });

  it('leaves a slow but steady body alone', async () => {
    const start = await rawRequest(registry.host, 'POST', '/v2/team/steady/blobs/uploads/', { headers: { authorization: auth } });
    const location = String(start.headers.location);
    // Each chunk arrives well inside the idle timeout; the whole body takes longer than it.
    const [hostname, port] = registry.host.split(':');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, async () => {
        socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${registry.host}\r\nAuthorization: ${auth}\r\nContent-Type: application/octet-stream\r\nContent-Length: 600\r\nConnection: close\r\n\r\n`);
        for (let i = 0; i < 6; i += 1) {
          await new Promise((next) => setTimeout(next, 100));
          socket.write(Buffer.alloc(100, i));
        }
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
    const status = await rawRequest(registry.host, 'GET', location, { headers: { authorization: auth } });
    expect(status.headers.range).toBe('0-599');
  });

  it('cuts a stalled body the registry refused before reading it: anonymous, or naming an unknown upload', async () => {
    // Answered (401, 404) before the body is read, then drained: without a timer the
    // connection would wait for the missing bytes forever, one held socket per such client.
    const anonymous = `POST /v2/team/stall/blobs/uploads/?digest=sha256:${'0'.repeat(64)} HTTP/1.1\r\nHost: ${registry.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n`;
    const refused = await stalledRequest(registry.host, anonymous, 'x'.repeat(10));
    expect(refused.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused.closed).toBe(true);
    const unknown = `PATCH /v2/team/stall/blobs/uploads/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: ${registry.host}\r\nAuthorization: ${auth}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n`;
    const missing = await stalledRequest(registry.host, unknown, 'x'.repeat(10));
    expect(missing.response).toMatch(/^HTTP\/1\.1 404 /);
    expect(missing.closed).toBe(true);
  });

  it('keeps the connection of a refused request whose body keeps coming, for the next request', async () => {
    const [hostname, port] = registry.host.split(':');
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, async () => {
        socket.write(`POST /v2/team/steady/blobs/uploads/?digest=sha256:${'0'.repeat(64)} HTTP/1.1\r\nHost: ${registry.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 600\r\n\r\n`);
        // Refused at once (no credentials); the rest of the body keeps coming, each chunk well
        // inside the idle timeout, for longer than the timeout in all.
        for (let i = 0; i < 6; i += 1) {
          await new Promise((next) => setTimeout(next, 100));
          socket.write(Buffer.alloc(100, i));
        }
        socket.write(`GET /healthz HTTP/1.1\r\nHost: ${registry.host}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answers).toMatch(/^HTTP\/1\.1 401 /);
    expect(answers).toMatch(/HTTP\/1\.1 200 [^]*"status":"ok"/);
  });

  it('logs every cut as expected: a request line per cut, no error', () => {
    const cuts = logged.filter((record) => record.msg === 'request' && (record as { status?: number }).status === 408);
    expect(cuts.length).toBe(3);
    expect(logged.filter((record) => record.msg.includes('refused request body stalled')).length).toBe(2);
    // A handler that fails on its cut body (when the cut lands mid-read) logs at info.
    expect(logged.filter((record) => record.level >= 50).map((record) => record.msg)).toEqual([]);
  });
});
