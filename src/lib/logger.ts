import { pino, type Logger as PinoLogger } from 'pino';

/** Structured JSON logs (pino). Each plane logs through its own child: `{"plane":"control",...}`. */
export type Logger = PinoLogger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'amphi' }, timestamp: pino.stdTimeFunctions.isoTime });
}
