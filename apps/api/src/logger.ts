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
          // Rewritten only when some text in it could hold a key or session token: a walk of its values is much
          // cheaper than printing every log line twice to look.
          return mayHoldSecret(object, 0)
            ? (JSON.parse(redactKeys(JSON.stringify(object))) as Record<string, unknown>)
            : object;
        },
      },
    },
    destination,
  );
}

/** Any of our bearer secrets' prefixes (`cdk_` keys, `cds_` session tokens), as `redactKeys` looks for them. */
function hasSecretPrefix(text: string): boolean {
  return text.includes('cdk_') || text.includes('cds_');
}

/**
 * Whether the JSON of `value` could contain a secret: any string in it (names and values, what `toJSON` returns)
 * with a secret's prefix. Too deep (or circular) counts as yes, so such objects take the exact path.
 */
function mayHoldSecret(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return hasSecretPrefix(value);
  if (value === null || typeof value !== 'object') return false;
  if (depth > 32) return true;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return mayHoldSecret(toJSON.call(value), depth + 1);
  if (Array.isArray(value)) return value.some((item) => mayHoldSecret(item, depth + 1));
  for (const key of Object.keys(value)) {
    if (hasSecretPrefix(key) || mayHoldSecret((value as Record<string, unknown>)[key], depth + 1))
      return true;
  }
  return false;
}
