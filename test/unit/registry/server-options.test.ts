import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { registryServerOptions } from '../../../src/registry/server-options.js';

/** What the client end reads when Node's parser error `code` is answered on the server end. */
async function answerFor(code: string): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const received = new Promise<string>((resolve) => {
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    client.on('close', () => resolve(text));
  });
  const socket = await accepted;
  const handler = registryServerOptions().clientErrorHandler;
  handler?.(Object.assign(new Error(code), { code, bytesParsed: 0, rawPacket: { type: 'Buffer', data: [] } }), socket);
  const text = await received;
  server.close();
  return text;
}

describe("answers to Node's parser errors", () => {
  it('answers headers that never finish arriving (headersTimeout) with 408, as a body that stalls is', async () => {
    const text = await answerFor('ERR_HTTP_REQUEST_TIMEOUT');
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text).toContain('"code":"UNSUPPORTED"');
  });

  it('answers a malformed request with 400 and headers over the limit with 431', async () => {
    expect(await answerFor('HPE_INVALID_METHOD')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await answerFor('HPE_HEADER_OVERFLOW')).toMatch(/^HTTP\/1\.1 431 /);
  });
});
