import { execFile } from 'node:child_process';

export interface HeyResult {
  readonly requests: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
}

/**
 * Run `hey` (Debian's HTTP load generator, keep-alive) against a loopback URL: `requests` GETs
 * at `concurrency`, killed after `maxSeconds`. Every response must be a 200.
 */
export function hey(url: string, options: { requests: number; concurrency: number; maxSeconds: number; headers?: Record<string, string> }): Promise<HeyResult> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error('the benchmark loads loopback only');
  const headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const args = ['-n', String(options.requests), '-c', String(options.concurrency), '-t', String(options.maxSeconds), '-disable-compression', ...headers, url];
  return new Promise((resolve, reject) => {
    execFile('hey', args, { timeout: options.maxSeconds * 1000 * 2, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(new Error(`hey failed: ${error.message}`));
      try {
        // hey gives each worker n/c requests, rounded down.
        resolve(parse(stdout, Math.floor(options.requests / options.concurrency) * options.concurrency));
      } catch (parseError) {
        reject(parseError as Error);
      }
    });
  });
}

function parse(output: string, expected: number): HeyResult {
  const number = (pattern: RegExp): number => {
    const match = pattern.exec(output);
    if (!match?.[1]) throw new Error(`hey printed no ${pattern.source}:\n${output}`);
    return Number(match[1]);
  };
  const ok = /\[200\]\s+(\d+) responses/.exec(output);
  const requests = ok?.[1] ? Number(ok[1]) : 0;
  if (requests !== expected) throw new Error(`hey: ${requests} of ${expected} responses were 200:\n${output}`);
  const seconds = number(/Total:\s+([\d.]+) secs/);
  return {
    requests,
    seconds,
    bytes: number(/Total data:\s+(\d+) bytes/),
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    // hey lists no percentiles for a handful of requests.
    p99Ms: Number(/\s99% in ([\d.]+) secs/.exec(output)?.[1] ?? Number.NaN) * 1000,
  };
}
