import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

/**
 * A worker thread that compares passwords with bcrypt hashes, so the cost of bcrypt (milliseconds
 * to a second per check) is paid off the event loop. One request at a time per worker; the pool
 * in auth/bcrypt-workers.ts queues the rest.
 *
 * In: {@link BcryptRequest}. Out: {@link BcryptResult} with the same id.
 */
export interface BcryptRequest {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

export interface BcryptResult {
  readonly id: number;
  readonly ok: boolean;
  /** Set when the hash could not be compared (malformed); `ok` is then false. */
  readonly error?: string;
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
