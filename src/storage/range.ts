import type { ByteRange } from './types.js';
import { RangeNotSatisfiableError } from './errors.js';

/** Check that `range` lies within a blob of `size` bytes. */
export function assertRangeWithin(range: ByteRange, size: number): void {
  if (range.start < 0 || range.end < range.start || range.end >= size) {
    throw new RangeNotSatisfiableError(size);
  }
}
