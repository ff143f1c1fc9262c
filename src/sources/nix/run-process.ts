import { spawn } from 'node:child_process';
import { SourceTimeoutError } from '../errors.js';

export interface RunOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Stdout beyond this many bytes fails the run instead of exhausting memory. */
  readonly maxStdoutBytes?: number;
  /** Called with each complete line of stderr as it arrives (lines past 4 KiB are cut). */
  readonly onStderrLine?: (line: string) => void;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  /** The last bytes of stderr, for error messages. */
  readonly stderrTail: string;
}

const STDERR_TAIL_BYTES = 16 * 1024;
const MAX_LINE_BYTES = 4 * 1024;

/**
 * Run a command to completion. Stdout and stderr are drained concurrently so a chatty child can
 * never block on a full pipe; stderr keeps only its tail. On timeout or abort the whole process
 * group is killed (Nix forks builders) and the promise rejects with SourceTimeoutError or the
 * signal's reason.
 */
export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  options.signal.throwIfAborted();
  const maxStdout = options.maxStdoutBytes ?? 256 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = Buffer.alloc(0);
    let failure: unknown;
    const lines = options.onStderrLine ? new LineSplitter(options.onStderrLine) : null;

    const killGroup = (reason: unknown): void => {
      failure ??= reason;
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    };
    const timer = setTimeout(
      () => killGroup(new SourceTimeoutError(`${command} ${args[0] ?? ''}`.trim(), options.timeoutMs)),
      options.timeoutMs,
    );
    const onAbort = (): void => killGroup(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) killGroup(new Error(`${command} printed more than ${maxStdout} bytes`));
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      lines?.push(chunk);
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(-STDERR_TAIL_BYTES);
    });
    child.on('error', (error) => killGroup(error));
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      lines?.end();
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      resolve({
        exitCode: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderrTail: stderrTail.toString('utf8'),
      });
    });
  });
}

/** Splits a byte stream into lines, holding at most MAX_LINE_BYTES of an unfinished one. */
export class LineSplitter {
  private partial = Buffer.alloc(0);
  private skipping = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    for (let newline = data.indexOf(10); newline >= 0; newline = data.indexOf(10)) {
      if (!this.skipping) this.emit(data.subarray(0, Math.min(newline, MAX_LINE_BYTES)));
      this.skipping = false;
      data = data.subarray(newline + 1);
    }
    if (data.length > MAX_LINE_BYTES) {
      // A line this long is cut: its start is reported, the rest up to the newline dropped.
      if (!this.skipping) this.emit(data.subarray(0, MAX_LINE_BYTES));
      this.skipping = true;
      data = Buffer.alloc(0);
    }
    this.partial = Buffer.from(data);
  }

  end(): void {
    if (this.partial.length > 0 && !this.skipping) this.emit(this.partial);
    this.partial = Buffer.alloc(0);
  }

  private emit(bytes: Buffer): void {
    const line = bytes.toString('utf8').replace(/\r$/, '');
    try {
      this.onLine(line);
    } catch {
      // A listener's failure must not break the run it watches.
    }
  }
}
