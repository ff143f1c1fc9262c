import { describe, expect, it } from 'vitest';
import { runProcess } from '../../../src/sources/nix/run-process.js';
import { SourceTimeoutError } from '../../../src/sources/errors.js';

const env = { PATH: '/usr/bin:/bin' };

describe('runProcess', () => {
  it('collects stdout and the tail of stderr, drained concurrently', async () => {
    // 4 MB on each stream: a child blocked on a full pipe would hang this test.
    const script = 'head -c 4000000 /dev/zero | tr "\\0" a; head -c 4000000 /dev/zero | tr "\\0" b >&2; echo end >&2';
    const result = await runProcess('sh', ['-c', script], { env, timeoutMs: 20_000, signal: new AbortController().signal });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBe(4_000_000);
    expect(result.stderrTail.endsWith('end\n')).toBe(true);
    expect(result.stderrTail.length).toBeLessThanOrEqual(16 * 1024);
  });

  it('reports the exit code', async () => {
    const result = await runProcess('sh', ['-c', 'echo oops >&2; exit 3'], { env, timeoutMs: 5_000, signal: new AbortController().signal });
    expect(result).toMatchObject({ exitCode: 3, stderrTail: 'oops\n' });
  });

  it('kills the process group on timeout', async () => {
    const started = Date.now();
    await expect(runProcess('sh', ['-c', 'sleep 30 & sleep 30'], { env, timeoutMs: 200, signal: new AbortController().signal })).rejects.toBeInstanceOf(
      SourceTimeoutError,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const running = runProcess('sleep', ['30'], { env, timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by caller')), 50);
    await expect(running).rejects.toThrow('cancelled by caller');
  });
});
