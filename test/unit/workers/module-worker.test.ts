import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startModuleWorker, WORKER_MODULES, type WorkerModule } from '../../../src/workers/module-worker.js';
import { WorkerPool } from '../../../src/workers/worker-pool.js';

/** For each worker module: messages that make it answer, and the answer's type. */
const ROUND_TRIPS: Record<WorkerModule, { readonly send: readonly unknown[]; readonly answer: string | ((reply: Record<string, unknown>) => boolean) }> = {
  'store-walker': {
    send: [
      {
        type: 'start',
        id: 1,
        real: fileURLToPath(new URL('.', import.meta.url)),
        logical: '/nix/store/x',
        limits: { batchEntries: 8, batchBytes: 1024, inlineBytes: 16 },
      },
    ],
    answer: 'batch',
  },
  'zstd-compressor': { send: [{ type: 'start', parameters: [['compressionLevel', 3]] }, { type: 'end' }], answer: 'output' },
  // 'abc' after a one-byte dictionary, as the final block: raw deflate of it, CRC-32 of 'abc'.
  'deflate-compressor': {
    send: [{ buffer: new Uint8Array([0x78, 0x61, 0x62, 0x63]).buffer, dictionaryLength: 1, length: 3, level: 6, last: true }],
    answer: (reply) => reply.type === 'done' && reply.crc === 0x352441c2,
  },
  'nar-decoder': { send: [{ type: 'start', id: 1, compression: 'none', maxOutput: 0 }, { type: 'end', id: 1 }], answer: 'done' },
  // bcrypt of "secret" at cost 4: the worker answers the request's id with the comparison.
  'bcrypt-verifier': {
    send: [{ id: 7, password: 'secret', hash: '$2b$04$XAJjswRRE8cYICw7CMeSv.oyBGKf3XbW4uo65pJAp5oKTNoviU8Lq' }],
    answer: (reply) => reply.id === 7 && reply.ok === true,
  },
};

describe('startModuleWorker', () => {
  // Run from src/ (as here), each worker loads its .ts module with tsx's loader preloaded: an
  // answer proves the module loaded and runs its message handler.
  it.each(WORKER_MODULES)('starts %s from its TypeScript module, which answers', async (module) => {
    const worker = startModuleWorker(module);
    try {
      const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      for (const message of ROUND_TRIPS[module].send) worker.postMessage(message);
      const expected = ROUND_TRIPS[module].answer;
      const reply = await answer;
      if (typeof expected === 'string') expect(reply.type).toBe(expected);
      else expect(expected(reply), JSON.stringify(reply)).toBe(true);
    } finally {
      await worker.terminate();
    }
  });
});

describe('WorkerPool', () => {
  it('reuses a released worker, keeps at most maxIdle and retires the rest', async () => {
    let spawned = 0;
    const retired: number[] = [];
    const pool = new WorkerPool({
      maxIdle: 1,
      spawn: () => {
        spawned += 1;
        return startModuleWorker('store-walker');
      },
      retire: (worker) => {
        retired.push(worker.threadId);
        void worker.terminate();
      },
    });
    const first = pool.acquire();
    const second = pool.acquire();
    pool.release(first);
    pool.release(second);
    expect(retired).toEqual([second.threadId]);
    expect(pool.acquire()).toBe(first);
    expect(spawned).toBe(2);
    await first.terminate();
  });
});
