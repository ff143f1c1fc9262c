import { request } from 'node:http';

/**
 * Start `count` downloads of `url` and destroy each socket once part of the body has arrived,
 * as a client that gives up mid-blob does; a few at a time. Resolves when all were cut.
 */
export async function abortDownloads(url: string, count: number, atOnce = 4): Promise<void> {
  let started = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`download answered ${res.statusCode}`));
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          // Past the first reads, with more of the blob still to come.
          if (received >= 4 * 1024 * 1024) {
            req.destroy();
            resolve();
          }
        });
        res.once('end', () => reject(new Error('the download ended before it was cut')));
      });
      req.once('error', () => undefined);
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      await one();
    }
  };
  await Promise.all(Array.from({ length: atOnce }, worker));
}
