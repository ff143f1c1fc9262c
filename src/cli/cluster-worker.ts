import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { METRICS_REPLY, METRICS_REQUEST, WORKER_ID_ENV, WORKER_RECOVERS_ENV, isMessage } from './cluster-messages.js';

/** How long a worker waits for the primary's collected metrics (prom-client's own limit is 5 s). */
const METRICS_WAIT_MS = 10_000;

export interface ClusterWorker {
  readonly id: number;
  /** Whether this worker cleans up the upload staging files of a previous run. */
  readonly recoversUploads: boolean;
  /** Every worker's metrics, collected by the primary, in Prometheus text format. */
  metricsText(): Promise<string>;
  /** Offer this worker's registry to the primary's collection, labelled with the worker's number. */
  report(registry: Registry): void;
}

/** This process's part in a cluster of serving workers, or null when it serves alone. */
export function clusterWorker(env: NodeJS.ProcessEnv): ClusterWorker | null {
  if (!cluster.isWorker || typeof process.send !== 'function') return null;
  const send = process.send.bind(process);
  const id = Number(env[WORKER_ID_ENV] ?? cluster.worker?.id ?? 0);
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message, METRICS_REPLY)) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(`collecting the workers' metrics failed: ${message.error}`));
    else waiter?.resolve(message.text ?? '');
  });
  return {
    id,
    recoversUploads: env[WORKER_RECOVERS_ENV] === '1',
    metricsText() {
      const requestId = next++;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(requestId);
          reject(new Error("the primary did not send the workers' metrics in time"));
        }, METRICS_WAIT_MS);
        const settle = { resolve: (text: string) => (clearTimeout(timer), resolve(text)), reject: (error: Error) => (clearTimeout(timer), reject(error)) };
        pending.set(requestId, settle);
        send({ type: METRICS_REQUEST, id: requestId });
      });
    },
    report(registry) {
      registry.setDefaultLabels({ worker: String(id) });
      // Constructing one installs prom-client's answer to the primary's collection requests.
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([registry]);
    },
  };
}
