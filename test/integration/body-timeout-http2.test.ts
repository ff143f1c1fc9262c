import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { basicAuth } from '../support/raw-http.js';

/**
 * The body timeout over HTTP/2: a stream whose body stalls is answered 408 and that stream (not
 * the connection, which carries other requests) is ended, so nothing sent after the answer is
 * kept and the upload is free for a retry at once. One connection cannot open streams without
 * bound either: each stalled one holds a staging file until it is cut.
 */
interface Exchange {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let ca: TestCa;
let registry: RunningRegistry;
let session: ClientHttp2Session;
const auth = basicAuth(TEST_USER, TEST_PASSWORD);

beforeAll(async () => {
  ca = await createTestCa();
  const certFile = join(ca.dir, 'tls.crt');
  const keyFile = join(ca.dir, 'tls.key');
  await ca.issue(certFile, keyFile);
  registry = await startRegistry(
    { server: { tlsCertFile: certFile, tlsKeyFile: keyFile, bodyIdleTimeoutMs: 300 }, auth: { htpasswdFile: await writeHtpasswd() } },
    { source: await FakePackageSource.create() },
  );
  session = http2Connect(`https://${registry.host}`, { ca: await readFile(ca.caFile) });
  await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
}, 60_000);

afterAll(async () => {
  session?.close();
  await registry?.close();
  if (ca) await rm(ca.dir, { recursive: true, force: true });
});

/** The answer to a stream, and the stream itself for writing more after it. */
function answerOf(stream: ClientHttp2Stream): Promise<Exchange> {
  return answerOrReset(stream).then((answer) => answer ?? Promise.reject(new Error('the stream was reset before an answer')));
}

/** The answer, or undefined when the stream failed first (an assertion on status then says so). */
function answerOrReset(stream: ClientHttp2Stream): Promise<Exchange | undefined> {
  return new Promise((resolve) => {
    let headers: Record<string, string | string[] | undefined> = {};
    let body = '';
    stream.once('response', (received) => (headers = received));
    stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
    stream.once('end', () => resolve({ status: Number(headers[':status']), headers, body }));
    stream.once('error', () => resolve(undefined));
  });
}

function request(headers: OutgoingHttpHeaders, body?: Buffer): Promise<Exchange> {
  const stream = session.request({ authorization: auth, ...headers });
  const answer = answerOf(stream);
  stream.end(body);
  return answer;
}

async function startUpload(repository: string): Promise<string> {
  const started = await request({ ':method': 'POST', ':path': `/v2/${repository}/blobs/uploads/` });
  expect(started.status).toBe(202);
  return String(started.headers.location);
}

/**
 * 'closed' once the stream is closed, or 'open' if it is still open after 10 s: only a safety net
 * for a server that never ends it, so the test fails on the assertion rather than its timeout.
 */
function closed(stream: ClientHttp2Stream): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    if (stream.closed) return resolve('closed');
    const guard = setTimeout(() => resolve('open'), 10_000);
    stream.once('close', () => {
      clearTimeout(guard);
      resolve('closed');
    });
  });
}

describe('stalled request bodies over HTTP/2', () => {
  it('answers a stalled chunk 408, ends its stream, keeps nothing sent after it, and frees the upload', async () => {
    const location = await startUpload('team/stall-h2');
    const stream = session.request({ ':method': 'PATCH', ':path': location, authorization: auth, 'content-type': 'application/octet-stream', 'content-length': '1000' });
    const answer = answerOrReset(stream);
    const ended = closed(stream);
    stream.write(Buffer.alloc(10, 1));
    const timedOut = await answer;
    if (timedOut === undefined) throw new Error('the stalled stream was reset without an answer');
    expect(timedOut.status).toBe(408);
    expect(timedOut.headers.connection).toBeUndefined();
    expect(JSON.parse(timedOut.body).errors[0].code).toBe('UNSUPPORTED');
    // The server ended the stream: the client's half is no longer written to the upload.
    expect(await ended).toBe('closed');
    stream.on('error', () => undefined);
    if (!stream.destroyed) stream.write(Buffer.alloc(990, 2));

    const status = await request({ ':method': 'GET', ':path': location });
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe('0-0');
    // The upload's lock went with the cut stream: a retry of the chunk is taken at once.
    const retry = await request({ ':method': 'PATCH', ':path': location, 'content-type': 'application/octet-stream', 'content-length': '100' }, Buffer.alloc(100, 3));
    expect(retry.status).toBe(202);
    expect(retry.headers.range).toBe('0-99');
    // The connection carried on: it is the same session.
    expect(session.closed || session.destroyed).toBe(false);
  }, 30_000);

  it('ends a refused stream whose body then stalls', async () => {
    const stream = session.request({ ':method': 'POST', ':path': `/v2/team/stall-h2/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`, 'content-type': 'application/octet-stream', 'content-length': '1000' });
    const answer = answerOrReset(stream);
    const ended = closed(stream);
    stream.write(Buffer.alloc(10, 1));
    expect((await answer)?.status).toBe(401);
    expect(await ended).toBe('closed');
  }, 30_000);

  it('bounds the streams one connection may have open at once', async () => {
    const settings = session.remoteSettings;
    expect(settings.maxConcurrentStreams).toBeGreaterThan(0);
    expect(settings.maxConcurrentStreams).toBeLessThanOrEqual(1000);
  });
});
