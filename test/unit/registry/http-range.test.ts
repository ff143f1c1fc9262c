import { describe, expect, it } from 'vitest';
import { parseRangeHeader } from '../../../src/registry/http-range.js';
import { RangeNotSatisfiableError } from '../../../src/storage/errors.js';

describe('parseRangeHeader', () => {
  it('parses closed, open and suffix ranges', () => {
    expect(parseRangeHeader('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRangeHeader('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRangeHeader('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRangeHeader('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRangeHeader('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
  });

  it('ignores absent, malformed and multi-range headers', () => {
    expect(parseRangeHeader(undefined, 100)).toBeNull();
    expect(parseRangeHeader('items=0-1', 100)).toBeNull();
    expect(parseRangeHeader('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRangeHeader('bytes=9-2', 100)).toBeNull();
  });

  it('refuses ranges starting past the end', () => {
    expect(() => parseRangeHeader('bytes=100-', 100)).toThrow(RangeNotSatisfiableError);
    expect(() => parseRangeHeader('bytes=-0', 100)).toThrow(RangeNotSatisfiableError);
  });
});
