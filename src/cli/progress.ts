import type { BuildStatus } from '../builder/build-tracker.js';
import { formatBytes } from './command-app.js';

/**
 * Build progress for `stowage build`: on a terminal one line redrawn in place with a bar; on
 * anything else (CI logs, pipes) a plain line per step, so logs stay readable.
 */
export interface ProgressReporter {
  update(status: BuildStatus): void;
  /** End the progress display (the in-place line gets its newline). */
  finish(): void;
}

export function createProgressReporter(out: { write(text: string): unknown }, isTTY: boolean, width = 28): ProgressReporter {
  let drawn = false;
  let previous = new Map<string, string>();
  return {
    update(status) {
      if (isTTY) {
        out.write(`\r\u001b[K${progressBarLine(status, width)}`);
        drawn = true;
        return;
      }
      // A line per step: a phase change or a finished layer, not every byte count.
      const step = `${status.phase}:${status.layersDone}`;
      if (previous.get(status.system) === step) return;
      previous = new Map(previous).set(status.system, step);
      out.write(`${plainProgressLine(status)}\n`);
    },
    finish() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

/** `[#########---------] layer 3/7 · 1.2 MiB written · x86_64-linux` */
export function progressBarLine(status: BuildStatus, width: number): string {
  const filled = Math.round(fraction(status) * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return `${bar} ${stepText(status)} · ${status.system}`;
}

/** `x86_64-linux: layer 3 of 7 (1.2 MiB written)`; one per step, bytes only at layer ends. */
export function plainProgressLine(status: BuildStatus): string {
  return `${status.system}: ${stepText(status, false)}`;
}

function stepText(status: BuildStatus, live = true): string {
  switch (status.phase) {
    case 'queued':
      return 'waiting for a build slot';
    case 'resolving':
      return 'resolving the closure';
    case 'layers': {
      const bytes = status.bytesWritten ? ` (${formatBytes(status.bytesWritten)} written)` : '';
      if (live) return `layer ${Math.min(status.layersDone + 1, status.layersTotal)}/${status.layersTotal}${bytes}`;
      return `${status.layersDone} of ${status.layersTotal} layers done${status.layersDone > 0 ? bytes : ''}`;
    }
    case 'manifest':
      return 'writing config and manifest';
    case 'done':
      return 'done';
    case 'failed':
      return `failed: ${status.error ?? 'unknown error'}`;
  }
}

function fraction(status: BuildStatus): number {
  switch (status.phase) {
    case 'queued':
      return 0;
    case 'resolving':
      return 0.05;
    case 'layers':
      return 0.1 + 0.85 * (status.layersTotal > 0 ? status.layersDone / status.layersTotal : 0);
    case 'manifest':
      return 0.97;
    default:
      return 1;
  }
}
