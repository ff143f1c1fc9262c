import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker thread from a module of `src/workers/`, named by URL next to the caller
 * (`new URL('./x-worker.js', import.meta.url)`). Built code (`dist/`) runs the `.js` file as is.
 * From sources (tsx, vitest) only the `.ts` file exists, and Node 20 does not apply the parent's
 * TypeScript loader to workers: a one-line bootstrap registers tsx in the worker and imports the
 * module. The worker's own code is always the type-checked module.
 */
export function startModuleWorker(url: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(url, options);
  const source = url.href.replace(/\.js$/, '.ts');
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
