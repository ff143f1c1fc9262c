import { describe, expect, it } from 'vitest';
import { appliesTo, parseProvides, parseRelations, RelationSyntaxError } from '../../../../src/sources/debian/resolve/relations.js';

describe('relation fields', () => {
  it('parses alternatives, version constraints, arch qualifiers, restriction lists and profiles', () => {
    const relations = parseRelations('a (>= 1.2) | b:any, c [amd64], libstdc++6 (<< 13~), d (<= 2), e (= 1:2-3), f (>>0) <!nocheck>, g (<1), h (> 2)');
    expect(relations.map((r) => r.text)).toEqual(['a (>= 1.2) | b:any', 'c [amd64]', 'libstdc++6 (<< 13~)', 'd (<= 2)', 'e (= 1:2-3)', 'f (>>0) <!nocheck>', 'g (<1)', 'h (> 2)']);
    expect(relations[0]?.alternatives).toEqual([
      { name: 'a', archQualifier: null, constraint: { op: '>=', version: '1.2' }, architectures: null },
      { name: 'b', archQualifier: 'any', constraint: null, architectures: null },
    ]);
    expect(relations[1]?.alternatives[0]?.architectures).toEqual(['amd64']);
    expect(relations[2]?.alternatives[0]).toMatchObject({ name: 'libstdc++6', constraint: { op: '<<', version: '13~' } });
    expect(relations[5]?.alternatives[0]?.constraint).toEqual({ op: '>>', version: '0' });
    expect(relations[6]?.alternatives[0]?.constraint).toEqual({ op: '<=', version: '1' });
    expect(relations[7]?.alternatives[0]?.constraint).toEqual({ op: '>=', version: '2' });
    expect(parseRelations('')).toEqual([]);
    expect(parseRelations(' , ')).toEqual([]);
  });

  it('refuses what the grammar does not allow', () => {
    expect(() => parseRelations('a (~= 1)')).toThrow(RelationSyntaxError);
    expect(() => parseRelations('a | | b')).toThrow(/cannot read/);
    expect(() => parseRelations('(>= 1)')).toThrow(RelationSyntaxError);
  });

  it('parses Provides with and without versions', () => {
    expect(parseProvides('awk, mail-transport-agent (= 4.96), x')).toEqual([
      { name: 'awk', version: null },
      { name: 'mail-transport-agent', version: '4.96' },
      { name: 'x', version: null },
    ]);
  });

  it('applies architecture restriction lists', () => {
    const alt = (list: string): ReturnType<typeof parseRelations>[number]['alternatives'][number] =>
      parseRelations(`x [${list}]`)[0]?.alternatives[0] as ReturnType<typeof parseRelations>[number]['alternatives'][number];
    expect(appliesTo(alt('amd64'), 'amd64')).toBe(true);
    expect(appliesTo(alt('arm64 i386'), 'amd64')).toBe(false);
    expect(appliesTo(alt('!i386'), 'amd64')).toBe(true);
    expect(appliesTo(alt('!amd64'), 'amd64')).toBe(false);
    expect(appliesTo(alt('linux-any'), 'arm64')).toBe(true);
  });
});
