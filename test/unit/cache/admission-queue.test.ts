import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from '../../../src/cache/admission-queue.js';

/** A task that runs until `finish` is called, recording that it started. */
function blocker(started: string[], name: string) {
  let finish: () => void = () => undefined;
  const done = new Promise<string>((resolve) => {
    finish = () => resolve(name);
  });
  return { task: () => (started.push(name), done), finish: () => finish() };
}

const refused = () => new Error('full');
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('AdmissionQueue', () => {
  it('runs at most `concurrency` tasks, lets `maxWaiting` wait in order, and refuses the rest', async () => {
    const queue = new AdmissionQueue(1, 2);
    const started: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => blocker(started, name));
    const runs = [a, b, c].map((task) => queue.run(task!.task, refused));
    await settle();
    expect(started).toEqual(['a']);
    expect(queue.stats).toEqual({ running: 1, queued: 2 });
    expect(queue.full).toBe(true);
    await expect(queue.run(async () => 'd', refused)).rejects.toThrow('full');

    a!.finish();
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(queue.stats).toEqual({ running: 1, queued: 1 });
    b!.finish();
    c!.finish();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
    expect(queue.stats).toEqual({ running: 0, queued: 0 });
  });

  it('drops a waiter whose signal aborts, and frees its slot after a task that throws', async () => {
    const queue = new AdmissionQueue(1, 1);
    const started: string[] = [];
    const first = blocker(started, 'first');
    const running = queue.run(first.task, refused);
    const controller = new AbortController();
    const waiting = queue.run(async () => 'never', refused, controller.signal);
    controller.abort(new Error('client gone'));
    await expect(waiting).rejects.toThrow('client gone');
    expect(queue.stats).toEqual({ running: 1, queued: 0 });
    await expect(queue.run(async () => 'x', refused, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');

    first.finish();
    await running;
    await expect(queue.run(() => Promise.reject(new Error('task failed')), refused)).rejects.toThrow('task failed');
    expect(queue.stats).toEqual({ running: 0, queued: 0 });
    expect(await queue.run(async () => 'after', refused)).toBe('after');
  });
});
