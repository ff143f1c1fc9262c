import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger: JSON lines on stdout; secrets never reach it (config logs names, not values). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'stowage' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
  });
}
