import { describe, expect, it } from 'vitest';
import type { BuildStatus } from '../../../src/builder/build-tracker.js';
import { createProgressReporter, plainProgressLine, progressBarLine } from '../../../src/cli/progress.js';
import { formatReport, parseDuration } from '../../../src/cli/gc-command.js';
import { formatPlan } from '../../../src/cli/layers-command.js';
import { formatBytes, imageNameOf } from '../../../src/cli/command-app.js';

const status = (patch: Partial<BuildStatus>): BuildStatus => ({
  image: 'hello/shell',
  revision: 'latest',
  system: 'x86_64-linux',
  phase: 'layers',
  startedAt: '2025-01-01T00:00:00.000Z',
  layersDone: 0,
  layersTotal: 4,
  ...patch,
});

describe('build progress', () => {
  it('draws a bar on a terminal, redrawn in place', () => {
    expect(progressBarLine(status({ phase: 'resolving' }), 20)).toBe('[#-------------------] resolving the closure · x86_64-linux');
    expect(progressBarLine(status({ layersDone: 2, bytesWritten: 1536 }), 20)).toBe('[###########---------] layer 3/4 (1.5 KiB written) · x86_64-linux');
    expect(progressBarLine(status({ phase: 'done' }), 10)).toBe('[##########] done · x86_64-linux');
    const written: string[] = [];
    const reporter = createProgressReporter({ write: (text: string) => written.push(text) }, true, 10);
    reporter.update(status({ phase: 'queued' }));
    reporter.update(status({ layersDone: 1 }));
    reporter.finish();
    expect(written.every((text, i) => i === written.length - 1 || text.startsWith('\r\u001b[K'))).toBe(true);
    expect(written[written.length - 1]).toBe('\n');
  });

  it('prints one plain line per step off a terminal, not one per byte count', () => {
    const written: string[] = [];
    const reporter = createProgressReporter({ write: (text: string) => written.push(text) }, false);
    reporter.update(status({ phase: 'resolving' }));
    reporter.update(status({ layersDone: 0 }));
    reporter.update(status({ layersDone: 0, bytesWritten: 100 }));
    reporter.update(status({ layersDone: 1, bytesWritten: 2048 }));
    reporter.update(status({ layersDone: 1, bytesWritten: 4096 }));
    reporter.update(status({ phase: 'failed', error: 'boom' }));
    reporter.finish();
    expect(written.join('')).toBe(
      ['x86_64-linux: resolving the closure', 'x86_64-linux: 0 of 4 layers done', 'x86_64-linux: 1 of 4 layers done (2.0 KiB written)', 'x86_64-linux: failed: boom', ''].join('\n'),
    );
    expect(plainProgressLine(status({ phase: 'manifest' }))).toBe('x86_64-linux: writing config and manifest');
  });
});

describe('gc output and options', () => {
  it('parses durations', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('90000')).toBe(90_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(() => parseDuration('soon')).toThrow(/--grace/);
  });

  it('reports what was freed', () => {
    const text = formatReport({ blobs: 10, bytes: 4096, referenced: 7, young: 1, deleted: [{ digest: 'sha256:aa', size: 2048 }, { digest: 'sha256:bb', size: 10 }], freedBytes: 2058, rescued: 0 }, true, 3_600_000);
    expect(text).toBe(
      'blobs: 10 (4.0 KiB); referenced: 7; unreferenced but recent (kept, grace 1h): 1\nwould delete 2 blobs, freeing 2.0 KiB\n  sha256:aa  2.0 KiB\n  sha256:bb  10 B\n',
    );
  });
});

describe('layers output', () => {
  it('lists each layer with its size and store paths', () => {
    const text = formatPlan('jq/shell:latest', { system: 'x86_64-linux', roots: [], closurePaths: 3, layers: [{ paths: ['/nix/store/a-x', '/nix/store/b-y'], narSize: 3 * 1024 * 1024 }, { paths: ['/nix/store/c-z'], narSize: 100 }] }, 100);
    expect(text.split('\n')).toEqual([
      'jq/shell:latest for x86_64-linux: 3 store paths, 3.0 MiB, in 2 layers plus the top layer (at most 100 in all)',
      '',
      'layer       size  store paths',
      '    1    3.0 MiB  /nix/store/a-x',
      '                  /nix/store/b-y',
      '    2      100 B  /nix/store/c-z',
      '  top             /bin and /usr/bin links, /etc/passwd, /etc/group, /tmp, /root',
      '',
      '',
    ]);
  });
});

describe('arguments', () => {
  it('takes an image name as one argument or as several', () => {
    expect(imageNameOf(['shell/hello'])).toBe('shell/hello');
    expect(imageNameOf(['shell', 'hello/'])).toBe('shell/hello');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1024 * 1024 * 200)).toBe('200 MiB');
  });
});
