import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, InvalidCatalogError, parseCatalogDocument, type CatalogDocument } from '../../../../src/sources/catalog/catalog.js';
import { CatalogFiles } from '../../../../src/sources/catalog/catalog-files.js';
import { packagesFromNixEnv, writeCatalogEntry } from '../../../../src/sources/catalog/catalog-document.js';
import { fakeStorePath } from '../../../support/binary-cache-fixtures.js';

const P = (name: string) => fakeStorePath(name, name);
const DOC: CatalogDocument = {
  version: 1,
  aliases: { latest: '2024-02' },
  revisions: {
    '2024-01': { systems: { 'x86_64-linux': { hello: { outputs: { out: P('hello-1') } } } } },
    '2024-02': {
      description: 'second',
      systems: {
        'x86_64-linux': {
          hello: { outputs: { out: P('hello-2') }, version: '2.0', description: 'says hello' },
          libjson: { outputs: { out: P('libjson'), lib: P('libjson-lib'), dev: P('libjson-dev') }, install: ['out', 'lib'] },
          python3Packages: { outputs: { out: P('python3') } },
          'python3Packages.numpy': { outputs: { out: P('numpy') } },
          Dup: { outputs: { out: P('dup1') } },
          DUP: { outputs: { out: P('dup2') } },
        },
        'aarch64-linux': { hello: { outputs: { out: P('hello-arm') } } },
      },
    },
  },
};
const catalog = () => new Catalog([{ file: 'doc.json', document: DOC }]);

describe('Catalog', () => {
  it('resolves exact names, case-insensitive names and single outputs', () => {
    const c = catalog();
    expect(c.lookup('2024-02', 'x86_64-linux', 'hello')).toEqual({ attribute: 'hello', outputs: [P('hello-2')] });
    expect(c.lookup('2024-01', 'x86_64-linux', 'hello')?.outputs).toEqual([P('hello-1')]);
    expect(c.lookup('2024-02', 'x86_64-linux', 'libjson')?.outputs).toEqual([P('libjson'), P('libjson-lib')]);
    expect(c.lookup('2024-02', 'x86_64-linux', 'libjson.dev')).toEqual({ attribute: 'libjson.dev', outputs: [P('libjson-dev')] });
    expect(c.lookup('2024-02', 'x86_64-linux', 'python3packages.numpy')?.attribute).toBe('python3Packages.numpy');
    expect(c.lookup('2024-02', 'x86_64-linux', 'python3packages')?.attribute).toBe('python3Packages');
    expect(c.lookup('2024-02', 'x86_64-linux', 'dup')).toBeUndefined(); // ambiguous
    expect(c.lookup('2024-02', 'x86_64-linux', 'libjson.nope')).toBeUndefined();
    expect(c.lookup('2024-02', 'x86_64-linux', 'nope')).toBeUndefined();
    expect(c.lookup('2099-01', 'x86_64-linux', 'hello')).toBeUndefined();
  });

  it('follows aliases, per system', () => {
    const c = catalog();
    expect(c.revisionOf('latest')).toBe('2024-02');
    expect(c.lookup('latest', 'aarch64-linux', 'hello')?.outputs).toEqual([P('hello-arm')]);
    expect(c.has('2024-01', 'aarch64-linux')).toBe(false);
    expect(c.tags()).toEqual(['2024-01', '2024-02', 'latest']);
    expect(c.tags('aarch64-linux')).toEqual(['2024-02', 'latest']);
    expect(c.systems('latest')).toEqual(['aarch64-linux', 'x86_64-linux']);
  });

  it('has a stable identity per revision and system that changes with the content', () => {
    const a = catalog().identity('2024-02', 'x86_64-linux');
    expect(catalog().identity('latest', 'x86_64-linux')).toBe(a);
    expect(a).toMatch(/^2024-02:[0-9a-f]{32}$/);
    const changed = structuredClone(DOC);
    (changed.revisions['2024-02']!.systems['x86_64-linux']!.hello!.outputs as Record<string, string>).out = P('hello-3');
    expect(new Catalog([{ file: 'x', document: changed }]).identity('2024-02', 'x86_64-linux')).not.toBe(a);
    expect(catalog().identity('2024-02', 'aarch64-linux')).not.toBe(a);
  });

  it('lists packages for search', () => {
    expect(catalog().packages('2024-02', 'x86_64-linux').find((pkg) => pkg.name === 'hello')).toEqual({ name: 'hello', version: '2.0', description: 'says hello' });
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['another version', JSON.stringify({ version: 2, revisions: {} }), /version/],
    ['a bad store path', JSON.stringify({ version: 1, revisions: { r: { systems: { 'x86_64-linux': { a: { outputs: { out: '/etc/passwd' } } } } } } }), /store path/],
    ['a revision that is no tag', JSON.stringify({ version: 1, revisions: { 'a b': { systems: {} } } }), /revisions/],
    ['an install output that does not exist', JSON.stringify({ version: 1, revisions: { r: { systems: { 'x86_64-linux': { a: { outputs: { lib: P('x') } } } } } } }), /installs "out"/],
    ['an unknown key', JSON.stringify({ version: 1, revisions: {}, extra: 1 }), /extra|Unrecognized/i],
  ])('rejects a document with %s', (_what, text, message) => {
    expect(() => parseCatalogDocument(text, 'bad.json')).toThrow(InvalidCatalogError);
    expect(() => parseCatalogDocument(text, 'bad.json')).toThrow(message);
  });

  it('rejects a revision and system listed twice across files, and aliases to nowhere', () => {
    expect(() => new Catalog([{ file: 'a', document: DOC }, { file: 'b', document: DOC }])).toThrow(/listed twice/);
    expect(() => new Catalog([{ file: 'a', document: { version: 1, aliases: { latest: 'nope' }, revisions: {} } }])).toThrow(/unknown revision nope/);
  });
});

describe('catalog files', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'stowage-catalog-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('writes entries, merging revisions and systems, validated and sorted', async () => {
    const file = join(directory, 'merge.json');
    await writeCatalogEntry(file, { revision: 'r1', system: 'x86_64-linux', packages: { zed: { outputs: { out: P('zed') } }, abc: { outputs: { out: P('abc') } } }, aliases: ['latest'], description: 'first' });
    await writeCatalogEntry(file, { revision: 'r1', system: 'aarch64-linux', packages: { abc: { outputs: { out: P('abc-arm') } } } });
    await writeCatalogEntry(file, { revision: 'r2', system: 'x86_64-linux', packages: { abc: { outputs: { out: P('abc2') } } }, aliases: ['latest'] });
    const document = parseCatalogDocument(await readFile(file, 'utf8'), file);
    expect(Object.keys(document.revisions)).toEqual(['r1', 'r2']);
    expect(Object.keys(document.revisions.r1!.systems)).toEqual(['x86_64-linux', 'aarch64-linux']);
    expect(Object.keys(document.revisions.r1!.systems['x86_64-linux']!)).toEqual(['abc', 'zed']);
    expect(document.revisions.r1!.description).toBe('first');
    expect(document.aliases).toEqual({ latest: 'r2' });
    await writeCatalogEntry(file, { revision: 'r3', system: 'x86_64-linux', packages: {} }, { replace: true });
    expect(Object.keys(parseCatalogDocument(await readFile(file, 'utf8'), file).revisions)).toEqual(['r3']);
  });

  it('reloads files that change, and keeps the last good catalog when a change is invalid', async () => {
    const file = join(directory, 'reload.json');
    await writeCatalogEntry(file, { revision: 'r1', system: 'x86_64-linux', packages: {} });
    let now = 0;
    const errors: string[] = [];
    const files = new CatalogFiles({ paths: [directory], ttlMs: 1000, now: () => now, onReloadError: (error) => errors.push(error.message) });
    expect((await files.current()).tags()).toContain('r1');
    await writeCatalogEntry(file, { revision: 'r2', system: 'x86_64-linux', packages: {} });
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    expect((await files.current()).tags()).not.toContain('r2'); // within the TTL
    now = 2000;
    expect((await files.current()).tags()).toContain('r2');
    await writeFile(file, '{ broken');
    now = 4000;
    expect((await files.current()).tags()).toContain('r2');
    expect(errors[0]).toMatch(/not JSON/);
    await expect(new CatalogFiles({ paths: [join(directory, 'missing.json')], ttlMs: 0 }).current()).rejects.toThrow(/no such file/);
  });

  it('imports nix-env -qaP --json --out-path --meta output', () => {
    const { packages, skipped } = packagesFromNixEnv({
      hello: { name: 'hello-2.12', version: '2.12', outputName: 'out', outputs: { out: P('hello') }, meta: { description: 'hi' } },
      openssl: { outputName: 'bin', outputs: { bin: P('openssl-bin'), dev: P('openssl-dev'), man: P('openssl-man'), out: P('openssl') }, meta: { outputsToInstall: ['bin', 'man'] } },
      nopaths: { name: 'x', outputs: { out: '' } },
    });
    expect(packages.hello).toEqual({ outputs: { out: P('hello') }, version: '2.12', description: 'hi' });
    expect(packages.openssl?.install).toEqual(['bin']);
    expect(skipped).toEqual(['nopaths']);
  });
});
