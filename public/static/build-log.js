import { el, formatDuration } from './common.js';

// Lines shown at most: the server keeps a bounded tail per build, and so does the page.
const MAX_LINES = 200;

const KIND_LABELS = { build: 'build', download: 'download', layer: 'layer', log: '' };

/**
 * The live part of a build: elapsed time (counted on in the page from the last elapsed time the
 * server sent, so the browser's clock never has to agree with the server's), what was built and
 * downloaded so far, and the log lines as they arrive.
 */
export class BuildLogView {
  constructor({ list, elapsed, counts }) {
    this.list = list;
    this.elapsed = elapsed;
    this.counts = counts;
    this.seen = new Set();
    this.countsBySystem = new Map();
    this.baseMs = 0;
    this.baseAt = performance.now();
    this.timer = null;
  }

  /** Forget the previous build and start counting from zero. */
  start() {
    this.stop();
    this.seen.clear();
    this.countsBySystem.clear();
    this.list.replaceChildren();
    this.counts.textContent = '';
    this.setElapsed(0);
    this.timer = setInterval(() => this.render(), 1000);
  }

  /** Stop the clock, at the build's own duration when it is known. */
  stop(finalMs) {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (Number.isFinite(finalMs)) this.setElapsed(finalMs);
    else this.render();
  }

  status(status) {
    const ms = status.durationMs ?? status.elapsedMs;
    if (Number.isFinite(ms) && ms >= this.baseMs) this.setElapsed(ms);
  }

  /** One log line (a BuildLogLine with `counts`); repeats (after a reconnect) are ignored. */
  add(line) {
    const key = `${line.system}\u0000${line.seq}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (line.counts) this.countsBySystem.set(line.system, line.counts);
    if (Number.isFinite(line.elapsedMs) && line.elapsedMs > this.currentMs()) this.setElapsed(line.elapsedMs);
    const label = KIND_LABELS[line.kind] ?? '';
    this.list.append(
      el(
        'li',
        { class: `log-line log-${line.kind}`, 'data-kind': line.kind },
        el('span', { class: 'log-time' }, formatDuration(line.elapsedMs)),
        label ? el('span', { class: 'log-kind' }, label) : null,
        el('span', { class: 'log-text' }, line.text),
      ),
    );
    while (this.list.children.length > MAX_LINES) this.list.firstElementChild.remove();
    this.list.scrollTop = this.list.scrollHeight;
    this.renderCounts();
  }

  /** The latest line's text, for the phase line. */
  latest() {
    return this.list.lastElementChild?.querySelector('.log-text')?.textContent ?? '';
  }

  currentMs() {
    return this.baseMs + (this.timer === null ? 0 : performance.now() - this.baseAt);
  }

  setElapsed(ms) {
    this.baseMs = ms;
    this.baseAt = performance.now();
    this.render();
  }

  render() {
    this.elapsed.textContent = formatDuration(Math.max(0, this.currentMs()));
  }

  renderCounts() {
    const total = { build: 0, download: 0, layer: 0 };
    for (const counts of this.countsBySystem.values()) for (const kind of Object.keys(total)) total[kind] += counts[kind] ?? 0;
    const parts = [];
    if (total.build) parts.push(`${total.build} derivation${total.build === 1 ? '' : 's'} built`);
    if (total.download) parts.push(`${total.download} download${total.download === 1 ? '' : 's'}`);
    if (total.layer) parts.push(`${total.layer} layer${total.layer === 1 ? '' : 's'} done`);
    this.counts.textContent = parts.join(' · ');
  }
}
