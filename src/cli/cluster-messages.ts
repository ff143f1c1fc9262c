/** What the cluster primary and its serving workers tell each other (see cluster-primary.ts). */

/** The worker's number, 1 to `server.workers`; its metrics carry it as the `worker` label. */
export const WORKER_ID_ENV = 'STOWAGE_WORKER_ID';
/** "1" in the one worker that cleans up upload staging files at startup. */
export const WORKER_RECOVERS_ENV = 'STOWAGE_WORKER_RECOVERS';

export const METRICS_REQUEST = 'stowage:metrics-request';
export const METRICS_REPLY = 'stowage:metrics-reply';

export interface ClusterMessage {
  readonly type: string;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

export function isMessage(message: unknown, type: string): message is ClusterMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type && typeof (message as { id?: unknown }).id === 'number';
}
