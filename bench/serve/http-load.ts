import { Agent, request, type IncomingHttpHeaders } from 'node:http';

/** One keep-alive agent per origin, so every request reuses its connections. */
export class Clients {
  private readonly agents = new Map<string, Agent>();

  agent(origin: string): Agent {
    let agent = this.agents.get(origin);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 64 });
      this.agents.set(origin, agent);
    }
    return agent;
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
  }
}

export interface Fetched {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly bytes: number;
  /** Redirects followed. */
  readonly hops: number;
}

/** GET `url`, draining the body; follows 307/302 (to S3) up to twice. */
export function get(clients: Clients, url: string, headers: Record<string, string> = {}, hops = 0): Promise<Fetched> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'GET', headers, agent: clients.agent(target.origin) }, (res) => {
      const status = res.statusCode ?? 0;
      if ((status === 307 || status === 302) && res.headers.location && hops < 2) {
        res.resume();
        res.once('end', () => {
          get(clients, new URL(res.headers.location as string, target).toString(), {}, hops + 1).then(resolve, reject);
        });
        return;
      }
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.once('end', () => resolve({ status, headers: res.headers, bytes, hops }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

export interface LoadResult {
  readonly requests: number;
  readonly bytes: number;
  readonly seconds: number;
  /** Latency of each request in milliseconds, sorted. */
  readonly latencies: number[];
}

/**
 * Run `task` with `concurrency` workers until `maxRequests` were made or `maxSeconds` passed,
 * whichever comes first. Every request must succeed.
 */
export async function runLoad(options: { concurrency: number; maxRequests: number; maxSeconds: number; task: () => Promise<Fetched> }): Promise<LoadResult> {
  const latencies: number[] = [];
  let bytes = 0;
  let started = 0;
  const begin = process.hrtime.bigint();
  const deadline = Date.now() + options.maxSeconds * 1000;
  const worker = async (): Promise<void> => {
    while (started < options.maxRequests && Date.now() < deadline) {
      started += 1;
      const t0 = process.hrtime.bigint();
      const result = await options.task();
      if (result.status !== 200) throw new Error(`request failed with ${result.status}`);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      bytes += result.bytes;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  return { requests: latencies.length, bytes, seconds, latencies: latencies.sort((a, b) => a - b) };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
