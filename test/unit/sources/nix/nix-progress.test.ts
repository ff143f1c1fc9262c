import { describe, expect, it } from 'vitest';
import { parseNixBuildLine, storeName } from '../../../../src/sources/nix/nix-progress.js';

// Lines as nix-build 2.8 prints them without a terminal (captured from a real build).
const REAL_STDERR = [
  'these 2 derivations will be built:',
  '  /nix/store/bfrgjh7yjv6spah5hf1h3cay1ymgn8sg-chatty-dep-1.0.drv',
  '  /nix/store/m4p2gjr939cgr8vinqk5vvpa6llqm4dz-chatty-1.0.drv',
  "building '/nix/store/bfrgjh7yjv6spah5hf1h3cay1ymgn8sg-chatty-dep-1.0.drv'...",
  'dep-line',
  "building '/nix/store/m4p2gjr939cgr8vinqk5vvpa6llqm4dz-chatty-1.0.drv'...",
  'step one',
  '',
];

describe('parseNixBuildLine', () => {
  it('turns a real nix-build log into build and log events, skipping the listed paths and blank lines', () => {
    const events = REAL_STDERR.map(parseNixBuildLine).filter((event) => event !== null);
    expect(events).toEqual([
      { kind: 'log', text: 'these 2 derivations will be built:' },
      { kind: 'build', text: 'building chatty-dep-1.0' },
      { kind: 'log', text: 'dep-line' },
      { kind: 'build', text: 'building chatty-1.0' },
      { kind: 'log', text: 'step one' },
    ]);
  });

  it('reads substitutions as downloads', () => {
    expect(parseNixBuildLine("copying path '/nix/store/0c6a9hd7cz8l4z26hgkq0v3xfdgxm0ll-hello-2.12.1' from 'http://127.0.0.1:5000'...")).toEqual({
      kind: 'download',
      text: 'downloading hello-2.12.1 from http://127.0.0.1:5000',
    });
  });

  it('removes terminal colours and cuts very long lines', () => {
    expect(parseNixBuildLine('\u001b[31;1merror:\u001b[0m builder failed')).toEqual({ kind: 'log', text: 'error: builder failed' });
    const long = parseNixBuildLine('x'.repeat(5000));
    expect(long?.text.length).toBeLessThanOrEqual(301);
  });

  it('names store paths by their name part', () => {
    expect(storeName('/nix/store/0c6a9hd7cz8l4z26hgkq0v3xfdgxm0ll-hello-2.12.1')).toBe('hello-2.12.1');
    expect(storeName('not a store path')).toBe('not a store path');
  });
});
