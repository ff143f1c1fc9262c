import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker modules under src/workers/, by file name without extension. */
export const WORKER_MODULES = ['store-walker', 'zstd-compressor', 'deflate-compressor', 'nar-decoder', 'bcrypt-verifier'] as const;
export type WorkerModule = (typeof WORKER_MODULES)[number];

/**
 * Starts one of the worker modules in this directory on a new thread.
 *
 * Compiled (dist/), the module is the `.js` file tsc wrote next to this one. Run from src/
 * (vitest, `node --import tsx`), there is no `.js`: the thread loads the `.ts` file, with
 * register-tsx.mjs preloaded to give it tsx's loader, which a worker does not inherit. That
 * fallback needs tsx, a dev dependency, only where the sources themselves are run.
 */
export function startModuleWorker(module: WorkerModule, options: WorkerOptions = {}): Worker {
  const compiled = new URL(`./${module}.js`, import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, options);
  const source = new URL(`./${module}.ts`, import.meta.url);
  const preload = new URL('./register-tsx.mjs', import.meta.url).href;
  return new Worker(source, { ...options, execArgv: [...(options.execArgv ?? []), '--import', preload] });
}
