/** What a line of a build's log tells. */
export type BuildLogKind = 'build' | 'download' | 'layer' | 'log';

/** One line of one system's build log, as the UI shows it. */
export interface BuildLogLine {
  readonly image: string;
  readonly revision: string;
  readonly system: string;
  /** 1 for the build's first line; gaps mean lines were dropped from the front. */
  readonly seq: number;
  readonly kind: BuildLogKind;
  readonly text: string;
  /** Time since the build started, by the tracker's clock. */
  readonly elapsedMs: number;
}

/** Lines of each kind a build has logged, dropped ones included. */
export type BuildLogCounts = Readonly<Record<BuildLogKind, number>>;

/** Longest line kept; longer ones are cut. */
export const MAX_LOG_TEXT = 500;

/**
 * The last `capacity` lines of one build's log: a chatty build (a compiler's output) keeps a
 * bounded tail, while the counts of derivations built and downloads stay exact.
 */
export class BoundedLog {
  private readonly kept: BuildLogLine[] = [];
  private readonly counted: Record<BuildLogKind, number> = { build: 0, download: 0, layer: 0, log: 0 };
  private nextSeq = 1;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a build log keeps at least one line, not ${capacity}`);
  }

  append(line: Omit<BuildLogLine, 'seq' | 'text'> & { readonly text: string }): BuildLogLine {
    const text = line.text.length > MAX_LOG_TEXT ? `${line.text.slice(0, MAX_LOG_TEXT)}…` : line.text;
    const entry: BuildLogLine = { ...line, text, seq: this.nextSeq++ };
    this.counted[line.kind] += 1;
    this.kept.push(entry);
    if (this.kept.length > this.capacity) this.kept.shift();
    return entry;
  }

  lines(): readonly BuildLogLine[] {
    return [...this.kept];
  }

  /** Lines no longer kept. */
  get dropped(): number {
    return this.nextSeq - 1 - this.kept.length;
  }

  get counts(): BuildLogCounts {
    return { ...this.counted };
  }
}
