import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../src/builder/bounded-map.js';

/** Tasks that finish only when released, counting how many run at once. */
class Gate {
  running = 0;
  peak = 0;
  readonly started: number[] = [];
  private readonly releases = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  task = async (item: number, _index: number, signal: AbortSignal): Promise<number> => {
    this.started.push(item);
    this.running += 1;
    this.peak = Math.max(this.peak, this.running);
    try {
      await new Promise<void>((resolve, reject) => {
        this.releases.set(item, { resolve, reject });
        signal.addEventListener('abort', () => reject(new Error(`aborted ${item}`)), { once: true });
      });
      return item * 10;
    } finally {
      this.running -= 1;
    }
  };

  /** Let the microtasks run so that started tasks reach their gate. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  release(item: number): void {
    this.releases.get(item)?.resolve();
  }

  fail(item: number, error: Error): void {
    this.releases.get(item)?.reject(error);
  }
}

describe('mapBounded', () => {
  it('runs at most `limit` tasks at once and keeps the results in the items order', async () => {
    const gate = new Gate();
    const items = [1, 2, 3, 4, 5];
    const done = mapBounded(items, gate.task, { limit: 2 });
    await gate.settle();
    expect(gate.started).toEqual([1, 2]);
    // Finishing out of order frees a slot for the next item.
    gate.release(2);
    await gate.settle();
    expect(gate.started).toEqual([1, 2, 3]);
    for (const item of [3, 1, 5, 4]) {
      gate.release(item);
      await gate.settle();
    }
    expect(await done).toEqual([10, 20, 30, 40, 50]);
    expect(gate.peak).toBe(2);
  });

  it('starts in the order given, results still in item order', async () => {
    const gate = new Gate();
    const done = mapBounded([1, 2, 3], gate.task, { limit: 1, startOrder: [2, 0, 1] });
    for (const item of [3, 1, 2]) {
      await gate.settle();
      gate.release(item);
    }
    expect(await done).toEqual([10, 20, 30]);
    expect(gate.started).toEqual([3, 1, 2]);
  });

  it('on a failure starts nothing more, aborts the running tasks and throws the first error', async () => {
    const gate = new Gate();
    const done = mapBounded([1, 2, 3, 4], gate.task, { limit: 2 });
    await gate.settle();
    gate.fail(1, new Error('layer 1 broke'));
    await expect(done).rejects.toThrow('layer 1 broke');
    expect(gate.started).toEqual([1, 2]);
    expect(gate.running).toBe(0);
  });

  it('stops when the caller aborts', async () => {
    const gate = new Gate();
    const controller = new AbortController();
    const done = mapBounded([1, 2, 3], gate.task, { limit: 1, signal: controller.signal });
    await gate.settle();
    controller.abort(new Error('build timed out'));
    await expect(done).rejects.toThrow();
    expect(gate.started).toEqual([1]);
  });

  it('rejects a start order that does not name every item once', async () => {
    await expect(mapBounded([1, 2], async (item) => item, { limit: 1, startOrder: [0, 0] })).rejects.toThrow(RangeError);
  });
});
