/**
 * The compressor thread of ZstdWorkerStream (protocol in zstd-compressor-protocol.ts). It runs
 * single-threaded zstd with the parameters given, so its output is byte-identical to an
 * in-thread `CompressStream`. Input buffers go back to the stream for reuse and output buffers
 * are transferred out, so the worker makes no garbage: a worker's heap is collected rarely,
 * and transferred-in chunks would pile up there (tens of MiB) until it is.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type * as Zstd from 'zstd-napi/binding.js';
import type { CompressorMessage, CompressorRequest } from './zstd-compressor-protocol.js';

type Binding = typeof Zstd;

// The binding is a native CommonJS module: required, not imported, as zstd-napi itself does.
const binding = createRequire(import.meta.url)('zstd-napi/binding') as Binding;
const scratch = Buffer.allocUnsafeSlow(binding.cStreamOutSize());
const empty = new Uint8Array(0);
let cctx: Zstd.CCtx | null = null;

function compress(context: Zstd.CCtx, input: Uint8Array, endOp: Zstd.EndDirective): ArrayBuffer[] {
  const chunks: ArrayBuffer[] = [];
  for (;;) {
    const [remaining, produced, consumed] = context.compressStream2(scratch, input, endOp);
    if (produced > 0) {
      const chunk = new Uint8Array(produced);
      chunk.set(scratch.subarray(0, produced));
      chunks.push(chunk.buffer);
    }
    input = input.subarray(consumed);
    if (input.length === 0 && (endOp === binding.EndDirective.continue || remaining === 0)) return chunks;
  }
}

function post(message: CompressorMessage, transfer: ArrayBuffer[]): void {
  parentPort?.postMessage(message, transfer);
}

parentPort?.on('message', (message: CompressorRequest) => {
  try {
    if (message.type === 'start') {
      cctx = new binding.CCtx();
      for (const [name, value] of message.parameters) cctx.setParameter(binding.CParameter[name], value);
      return;
    }
    if (!cctx) throw new Error(`${message.type} before start`);
    const last = message.type === 'end';
    const input = message.type === 'end' ? empty : new Uint8Array(message.buffer, 0, message.length);
    const chunks = compress(cctx, input, last ? binding.EndDirective.end : binding.EndDirective.continue);
    if (last) cctx = null;
    const returned = message.type === 'end' ? null : message.buffer;
    post({ type: 'output', chunks, input: returned, last }, returned ? [...chunks, returned] : chunks);
  } catch (error) {
    cctx = null;
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) }, []);
  }
});
