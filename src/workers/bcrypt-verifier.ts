import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import type { BcryptRequest, BcryptResult } from './bcrypt-verifier-protocol.js';

/**
 * A worker thread that compares passwords with bcrypt hashes, so the cost of bcrypt (milliseconds
 * to a second per check) is paid off the event loop. One request at a time per worker; the pool
 * in auth/bcrypt-workers.ts queues the rest.
 *
 * In: {@link BcryptRequest}. Out: {@link BcryptResult} with the same id.
 */
// Off the event loop is not enough on a small machine: a flood of bad passwords would still take
// the cores the event loop needs. This thread alone gets the lowest CPU priority (on Linux a
// thread id names one thread to setpriority), so credential checks run in the time that serving
// leaves over. Elsewhere it keeps the normal priority.
try {
  const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isSafeInteger(threadId) && threadId > 0) setPriority(threadId, 19);
} catch {
  // no /proc: not Linux
}

parentPort?.on('message', (request: BcryptRequest) => {
  let result: BcryptResult;
  try {
    result = { id: request.id, ok: bcrypt.compareSync(request.password, request.hash) };
  } catch (error) {
    result = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(result);
});
