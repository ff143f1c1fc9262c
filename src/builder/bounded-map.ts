/** Options of {@link mapBounded}. */
export interface BoundedMapOptions {
  /** Most tasks running at once (at least 1). */
  readonly limit: number;
  /** Aborting stops starting tasks; the running ones see it through their own signal. */
  readonly signal?: AbortSignal;
  /**
   * The order tasks start in, as indexes into the items (default: as given). Results stay in
   * the items' order whatever the start order: start the longest first so that the last task
   * to finish is a short one.
   */
  readonly startOrder?: readonly number[];
}

/**
 * `run` over `items` with at most `limit` running at once; resolves with the results in the
 * items' order. On the first failure no further task starts, the signal handed to the running
 * ones aborts, and once they have all settled the first error is thrown (never a later one
 * caused by the abort).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  run: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: BoundedMapOptions,
): Promise<R[]> {
  const limit = Math.max(1, Math.floor(options.limit));
  const order = options.startOrder ?? items.map((_item, index) => index);
  if (order.length !== items.length || new Set(order).size !== items.length || order.some((index) => !(index in items))) {
    throw new RangeError('startOrder must name every item exactly once');
  }
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && !controller.signal.aborted && next < order.length) {
      const index = order[next++] as number;
      try {
        results[index] = await run(items[index] as T, index, controller.signal);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
          controller.abort(error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failed) throw firstError;
  options.signal?.throwIfAborted();
  return results;
}
