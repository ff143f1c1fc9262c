import { describe, expect, it } from 'vitest';
import { reportingStoreReader } from '../../../src/sources/reporting-store-reader.js';
import type { SourceProgress, StoreEntry, StoreReader } from '../../../src/sources/types.js';

const HELLO = '/nix/store/0c6a9hd7cz8l4z26hgkq0v3xfdgxm0ll-hello-2.12.1';
const GLIBC = '/nix/store/1c6a9hd7cz8l4z26hgkq0v3xfdgxm0ll-glibc-2.40';

describe('reportingStoreReader', () => {
  it('reports each store path once, the first time its contents are read, and reads through', async () => {
    const read: string[] = [];
    const inner: StoreReader = {
      async *entries(storePath: string): AsyncGenerator<StoreEntry> {
        read.push(storePath);
        yield { kind: 'directory', path: storePath };
      },
      list: async () => [{ name: 'bin', kind: 'directory' }],
    };
    const events: SourceProgress[] = [];
    const reader = reportingStoreReader(inner, [{ path: HELLO, narSize: 3 * 1024 * 1024, references: [] }, { path: GLIBC, narSize: 500, references: [] }], 'the binary cache', (event) => events.push(event));
    for (const path of [HELLO, HELLO, GLIBC]) for await (const entry of reader.entries(path)) expect(entry.path).toBe(path);
    expect(read).toEqual([HELLO, HELLO, GLIBC]);
    expect(events).toEqual([
      { kind: 'download', text: 'reading hello-2.12.1 (3.0 MiB NAR) from the binary cache' },
      { kind: 'download', text: 'reading glibc-2.40 (1 KiB NAR) from the binary cache' },
    ]);
    expect(await reader.list(`${HELLO}/bin`)).toEqual([{ name: 'bin', kind: 'directory' }]);
    expect(events).toHaveLength(2);
  });
});
