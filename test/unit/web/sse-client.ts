/** A minimal Server-Sent Events reader for tests: collects events until the server closes. */
export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

export function readSse(url: string): { done: Promise<SseEvent[]>; until(predicate: (event: SseEvent) => boolean): Promise<SseEvent> } {
  const events: SseEvent[] = [];
  const waiters: Array<{ predicate: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }> = [];
  const done = (async () => {
    const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(20_000) });
    if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error('not an event stream');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':') && line.includes(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
        if (fields.event === undefined) continue;
        const event = { event: fields.event, data: JSON.parse(fields.data ?? 'null') as unknown };
        events.push(event);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(event)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(event);
          }
        }
      }
    }
    return events;
  })();
  return {
    done,
    until: (predicate) => {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve });
        done.then(() => reject(new Error('the stream ended first')), reject);
      });
    },
  };
}
