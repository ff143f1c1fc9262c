/**
 * What the browser tests record of a page's Server-Sent Events: RECORD_EVENTS, added as an init
 * script, wraps EventSource so every event the page receives lands, in order, on window.__sse.
 */
export interface RecordedEvent {
  readonly type: string;
  readonly data: { phase?: string; layersDone?: number; layersTotal?: number; bytesWritten?: number; kind?: string; text?: string; durationMs?: number };
}

export const RECORD_EVENTS = `
  (() => {
    const Original = window.EventSource;
    window.__sse = [];
    window.EventSource = class extends Original {
      constructor(...args) {
        super(...args);
        for (const type of ['status', 'log', 'done', 'failed', 'idle']) {
          this.addEventListener(type, (event) => window.__sse.push({ type, data: JSON.parse(event.data) }));
        }
      }
    };
  })();
`;

/** As the pages write durations (public/static/common.js formatDuration). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
