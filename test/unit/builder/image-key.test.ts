import { describe, expect, it } from 'vitest';
import type { VersionedTable } from '../../../src/builder/co-occurrence-file.js';
import { coOccurrenceKeyPart, imageKey, type ImageKeyParts } from '../../../src/builder/image-key.js';
import { CO_OCCURRENCE_RULES_VERSION, coOccurrenceOf } from '../../../src/layering/index.js';

const parts: ImageKeyParts = {
  sourceKey: 'src',
  request: { packages: ['hello'], revision: 'main', system: 'x86_64-linux' },
  shell: false,
  compression: 'gzip',
  layerer: 'stowage',
  popularity: null,
  maxLayers: 100,
  level: 6,
};

describe('imageKey and co-occurrence tables', () => {
  it('keeps the key of images built without a table, and gives each table version its own', () => {
    expect(imageKey({ ...parts, coOccurrence: null })).toBe(imageKey(parts));
    const one = imageKey({ ...parts, coOccurrence: 'aaaaaaaaaaaaaaaa' });
    expect(one).not.toBe(imageKey(parts));
    expect(imageKey({ ...parts, coOccurrence: 'bbbbbbbbbbbbbbbb' })).not.toBe(one);
    expect(imageKey({ ...parts, coOccurrence: 'aaaaaaaaaaaaaaaa' })).toBe(one);
  });
});

describe('the co-occurrence part of the image key', () => {
  const table: VersionedTable = { table: coOccurrenceOf([['/nix/store/aaaa-a-1.0']]), version: 'aaaaaaaaaaaaaaaa' };

  it('carries the layering rules version beside the table version', () => {
    expect(CO_OCCURRENCE_RULES_VERSION).toBeGreaterThanOrEqual(2);
    const part = coOccurrenceKeyPart(table);
    expect(part).toBe(`aaaaaaaaaaaaaaaa/rules-${CO_OCCURRENCE_RULES_VERSION}`);
    expect(part).toContain(`rules-${CO_OCCURRENCE_RULES_VERSION}`);
    // Without the rules suffix the key would match the one the older rules layered.
    expect(imageKey({ ...parts, coOccurrence: part })).not.toBe(imageKey({ ...parts, coOccurrence: table.version }));
  });

  it('is absent without a table, so those keys stay as they were', () => {
    expect(coOccurrenceKeyPart(null)).toBeNull();
    expect(imageKey({ ...parts, coOccurrence: coOccurrenceKeyPart(null) })).toBe(imageKey(parts));
    expect(coOccurrenceKeyPart(null, CO_OCCURRENCE_RULES_VERSION + 1)).toBeNull();
  });

  it('gives images of one table under two rules versions two keys', () => {
    const now = imageKey({ ...parts, coOccurrence: coOccurrenceKeyPart(table) });
    const next = imageKey({ ...parts, coOccurrence: coOccurrenceKeyPart(table, CO_OCCURRENCE_RULES_VERSION + 1) });
    expect(next).not.toBe(now);
    expect(imageKey({ ...parts, coOccurrence: coOccurrenceKeyPart(table, CO_OCCURRENCE_RULES_VERSION) })).toBe(now);
  });
});
