import { redactKeys } from '@crowdee/core';
import { type Logger, pino, stdSerializers } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/**
 * Credentials never reach a log line: the headers that carry them are censored by path, and every formatted
 * message passes through key redaction in case a key was pasted somewhere we did not foresee (a URL, a name).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  '*.password',
  '*.key',
  '*.token',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Error messages and stacks are serialised after the formatter below runs, so they are scrubbed here.
      serializers: {
        err: (error: Error) =>
          JSON.parse(redactKeys(JSON.stringify(stdSerializers.err(error)))) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? redactKeys(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
      formatters: {
        log(object) {
          const text = JSON.stringify(object);
          return text.includes('cdk_') ? (JSON.parse(redactKeys(text)) as Record<string, unknown>) : object;
        },
      },
    },
    destination,
  );
}
