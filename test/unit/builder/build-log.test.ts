import { describe, expect, it } from 'vitest';
import { BoundedLog, MAX_LOG_TEXT } from '../../../src/builder/build-log.js';
import { BuildTracker } from '../../../src/builder/build-tracker.js';
import { describeProgress, SystemProgress } from '../../../src/builder/build-progress.js';

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-01-01T00:00:00Z')): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

const line = (text: string, kind: 'build' | 'download' | 'layer' | 'log' = 'log') => ({ image: 'a', revision: 'latest', system: 'x86_64-linux', kind, text, elapsedMs: 0 });

describe('BoundedLog', () => {
  it('keeps only the last lines, numbered, while counting every line by kind', () => {
    const log = new BoundedLog(3);
    for (let i = 1; i <= 5; i++) log.append(line(`line ${i}`, i % 2 === 0 ? 'build' : 'download'));
    expect(log.lines().map((entry) => [entry.seq, entry.text])).toEqual([
      [3, 'line 3'],
      [4, 'line 4'],
      [5, 'line 5'],
    ]);
    expect(log.dropped).toBe(2);
    expect(log.counts).toEqual({ build: 2, download: 3, layer: 0, log: 0 });
  });

  it('cuts long lines and refuses a capacity of nothing', () => {
    const log = new BoundedLog(1);
    expect(log.append(line('y'.repeat(MAX_LOG_TEXT * 3))).text.length).toBe(MAX_LOG_TEXT + 1);
    expect(() => new BoundedLog(0)).toThrow(RangeError);
  });
});

describe('BuildTracker logs and elapsed time', () => {
  it('stamps statuses and log lines with the time since the build started, by the injected clock', () => {
    const clock = manualClock();
    const tracker = new BuildTracker(10, { clock: clock.now });
    const progress = new SystemProgress(tracker, 'hello', 'latest', 'x86_64-linux');
    progress.report({ phase: 'queued' });
    clock.advance(1500);
    progress.report({ phase: 'resolving' });
    clock.advance(2500);
    progress.fromSource({ kind: 'build', text: 'building hello-2.12.1' });
    clock.advance(1000);
    progress.log('layer', 'layer 1 of 2 written');
    clock.advance(500);
    const done = tracker.update('hello', 'latest', 'x86_64-linux', { phase: 'done' });

    const [status] = tracker.get('hello', 'latest');
    expect(status?.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(done.durationMs).toBe(5500);
    const { lines, counts, dropped } = tracker.logOf('hello', 'latest');
    expect(lines.map((entry) => [entry.kind, entry.text, entry.elapsedMs])).toEqual([
      ['build', 'building hello-2.12.1', 4000],
      ['layer', 'layer 1 of 2 written', 5000],
    ]);
    expect(counts['x86_64-linux']).toEqual({ build: 1, download: 0, layer: 1, log: 0 });
    expect(dropped).toBe(0);
  });

  it('reports elapsed time on each status while a build runs', () => {
    const clock = manualClock();
    const tracker = new BuildTracker(10, { clock: clock.now });
    tracker.update('a', 'latest', 's', { phase: 'queued' });
    clock.advance(42_000);
    expect(tracker.update('a', 'latest', 's', { phase: 'layers' }).elapsedMs).toBe(42_000);
  });

  it('keeps a bounded number of lines per build and tells listeners of each', () => {
    const tracker = new BuildTracker(10, { clock: manualClock().now, logLines: 4 });
    const heard: string[] = [];
    const stop = tracker.subscribeLog((entry, counts) => heard.push(`${entry.text}/${counts.log}`));
    tracker.update('a', 'latest', 's', { phase: 'queued' });
    for (let i = 1; i <= 10; i++) tracker.log('a', 'latest', 's', 'log', `compiler line ${i}`);
    stop();
    tracker.log('a', 'latest', 's', 'log', 'after unsubscribing');
    const { lines, dropped, counts } = tracker.logOf('a', 'latest');
    expect(lines.map((entry) => entry.text)).toEqual(['compiler line 8', 'compiler line 9', 'compiler line 10', 'after unsubscribing']);
    expect(dropped).toBe(7);
    expect(counts.s?.log).toBe(11);
    expect(heard).toHaveLength(10);
    expect(heard[9]).toBe('compiler line 10/10');
  });

  it('starts a fresh log for a new build, ignores lines of untracked builds, and drops logs with their statuses', () => {
    const tracker = new BuildTracker(2, { clock: manualClock().now });
    expect(tracker.log('ghost', 'latest', 's', 'log', 'nobody builds this')).toBeUndefined();
    tracker.update('a', 'latest', 's', { phase: 'queued' });
    tracker.log('a', 'latest', 's', 'log', 'first build');
    tracker.update('a', 'latest', 's', { phase: 'failed', error: 'no' });
    tracker.update('a', 'latest', 's', { phase: 'queued' });
    expect(tracker.logOf('a', 'latest').lines).toEqual([]);
    tracker.log('a', 'latest', 's', 'log', 'second build');
    tracker.update('b', 'latest', 's', { phase: 'queued' });
    tracker.update('c', 'latest', 's', { phase: 'queued' });
    // `a` was the oldest of three with room for two: its status and its log are gone.
    expect(tracker.get('a', 'latest')).toEqual([]);
    expect(tracker.logOf('a', 'latest').lines).toEqual([]);
    tracker.update('a', 'latest', 's', { phase: 'queued' });
    expect(tracker.logOf('a', 'latest').lines).toEqual([]);
  });
});

describe('describeProgress', () => {
  it('names what Nix is doing while a build resolves, and the layers after', () => {
    const tracker = new BuildTracker(10, { clock: manualClock().now });
    const progress = new SystemProgress(tracker, 'hello', 'latest', 'x86_64-linux');
    progress.report({ phase: 'resolving' });
    expect(describeProgress(tracker, 'hello', 'latest')).toBe('x86_64-linux: resolving');
    progress.fromSource({ kind: 'build', text: 'building hello-2.12.1' });
    expect(describeProgress(tracker, 'hello', 'latest')).toBe('x86_64-linux: resolving (building hello-2.12.1)');
    progress.report({ phase: 'layers', layersDone: 1, layersTotal: 3 });
    expect(describeProgress(tracker, 'hello', 'latest')).toBe('x86_64-linux: layers 1 of 3 layers');
  });
});
