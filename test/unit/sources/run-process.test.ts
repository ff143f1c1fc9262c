import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineSplitter, runProcess } from '../../../src/sources/nix/run-process.js';
import { SourceTimeoutError } from '../../../src/sources/errors.js';

const env = { PATH: '/usr/bin:/bin' };

/** True while a process with this pid runs: it exists (signal 0 only checks) and is no zombie. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed orphan stays a zombie until its new parent reaps it, which a container's init may never do.
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

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
    // A background child that would hold the pipes open for 30 s: its pid goes to a file.
    const pidFile = join(await mkdtemp(join(tmpdir(), 'stowage-run-')), 'pid');
    const script = `sleep 30 & echo $! > '${pidFile}'; sleep 30`;
    await expect(runProcess('sh', ['-c', script], { env, timeoutMs: 200, signal: new AbortController().signal })).rejects.toBeInstanceOf(SourceTimeoutError);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(pid).toBeGreaterThan(0);
    // The group got SIGKILL; the signal may take a few turns to land.
    while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(isAlive(pid)).toBe(false);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const running = runProcess('sleep', ['30'], { env, timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by caller')), 50);
    await expect(running).rejects.toThrow('cancelled by caller');
  });
});

describe('runProcess stderr lines', () => {
  it('calls onStderrLine with each line as it arrives, the last unterminated one at exit, long ones cut', async () => {
    const lines: string[] = [];
    // Written in pieces that split lines, with a pause, and a 10 KiB line.
    const script = 'printf "one\\ntw" >&2; sleep 0.2; printf "o\\r\\nthree" >&2; printf "\\n%s\\nlast" "$(head -c 10240 /dev/zero | tr "\\0" z)" >&2';
    const result = await runProcess('sh', ['-c', script], { env, timeoutMs: 5_000, signal: new AbortController().signal, onStderrLine: (line) => lines.push(line) });
    expect(result.exitCode).toBe(0);
    expect(lines.slice(0, 3)).toEqual(['one', 'two', 'three']);
    expect(lines[3]).toBe('z'.repeat(4096));
    expect(lines[4]).toBe('last');
    expect(lines).toHaveLength(5);
  });

  it('keeps running when the listener throws', async () => {
    const result = await runProcess('sh', ['-c', 'echo a >&2; echo b >&2; echo out'], {
      env,
      timeoutMs: 5_000,
      signal: new AbortController().signal,
      onStderrLine: () => {
        throw new Error('listener broke');
      },
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'out\n' });
  });
});

describe('LineSplitter', () => {
  it('cuts a long line at 4 KiB however the chunks fall, and drops its rest up to the newline', () => {
    for (const split of [10, 3000, 4096, 5000, 10_240]) {
      const lines: string[] = [];
      const splitter = new LineSplitter((line) => lines.push(line));
      const bytes = Buffer.from(`${'y'.repeat(10_240)}\nnext\n`);
      splitter.push(bytes.subarray(0, split));
      splitter.push(bytes.subarray(split));
      splitter.end();
      expect(lines.map((line) => line.length), `split at ${split}`).toEqual([4096, 4]);
    }
  });

  it('joins a line split across chunks, also inside a multi-byte character', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from('grüße\r\nzwei');
    splitter.push(bytes.subarray(0, 3));
    splitter.push(bytes.subarray(3));
    expect(lines).toEqual(['grüße']);
    splitter.end();
    expect(lines).toEqual(['grüße', 'zwei']);
  });
});
