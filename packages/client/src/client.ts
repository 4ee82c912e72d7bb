import { inspect } from 'node:util';
import type { AppRouter } from '@crowdee/api';
import { keyHint, parseKey } from '@crowdee/core';
import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import { CrowdeeConfigError } from './errors.ts';
import { RestClient } from './rest.ts';
import { createThrottle, limiterIdFor, type Throttle, type ThrottleOptions } from './throttle/index.ts';

export interface ClientOptions {
  /** Defaults to CROWDEE_API_KEY. Never logged, never in errors or `inspect` output. */
  apiKey?: string;
  /** Defaults to CROWDEE_API_URL. */
  baseUrl?: string;
  /** Throttle settings (concurrency, spacing, retries, hooks), or `false` for none (not recommended). */
  throttle?: Omit<ThrottleOptions, 'redis'> | false;
  /**
   * Share one key's budget with other processes through Redis (Bottleneck clustering). The limiter id is derived
   * from a hash of the key; the key itself never reaches Redis.
   */
  redis?: { connection: NonNullable<ThrottleOptions['redis']>['connection']; expirationMs?: number };
  /** The underlying fetch (tests, proxies). */
  fetch?: typeof globalThis.fetch;
}

/**
 * The Crowdee API for scripts and services: `rest` for the /api/v1 routes, `trpc` for the typed procedures
 * (the same ones the settings app uses), both through one throttle that backs off instead of hammering.
 */
export class CrowdeeClient {
  readonly #key: string | undefined;
  readonly baseUrl: string;
  readonly rest: RestClient;
  readonly trpc: TRPCClient<AppRouter>;
  readonly throttle: Throttle | null;

  constructor(options: ClientOptions = {}) {
    const key = options.apiKey ?? process.env.CROWDEE_API_KEY;
    const baseUrl = (options.baseUrl ?? process.env.CROWDEE_API_URL)?.replace(/\/+$/, '');
    if (key !== undefined && !parseKey(key).ok) {
      throw new CrowdeeConfigError(
        'The API key is malformed: expected cdk_ followed by 36 letters and digits.',
      );
    }
    if (!baseUrl)
      throw new CrowdeeConfigError(
        'No API URL: set CROWDEE_API_URL (or pass baseUrl), e.g. https://api.crowdee.example',
      );
    this.#key = key;
    this.baseUrl = baseUrl;
    const base = options.fetch ?? globalThis.fetch;
    this.throttle =
      options.throttle === false
        ? null
        : createThrottle({
            ...options.throttle,
            fetch: base,
            ...(options.redis
              ? {
                  redis: {
                    connection: options.redis.connection,
                    id: limiterIdFor(key ?? 'anonymous'),
                    ...(options.redis.expirationMs ? { expirationMs: options.redis.expirationMs } : {}),
                  },
                }
              : {}),
          });
    const send = this.throttle?.fetch ?? base;
    // Checked when a call needs it, so public calls (status, leak reports) work without a key.
    const authorization = () => {
      if (this.#key === undefined)
        throw new CrowdeeConfigError('No API key: set CROWDEE_API_KEY (or pass apiKey).');
      return `Bearer ${this.#key}`;
    };
    this.rest = new RestClient(baseUrl, send, authorization);
    this.trpc = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${baseUrl}/trpc`,
          fetch: send,
          headers: () => ({ authorization: authorization() }),
        }),
      ],
    });
  }

  /** Enough to recognise the key in output, far too little to use it. */
  get keyHint(): string {
    return this.#key === undefined ? '(no key)' : keyHint(this.#key);
  }

  /** Stops the throttle: queued calls are rejected, no timers are left running. */
  async close(): Promise<void> {
    await this.throttle?.close();
  }

  [inspect.custom](): string {
    return `CrowdeeClient { baseUrl: ${JSON.stringify(this.baseUrl)}, key: ${this.keyHint} }`;
  }

  toJSON(): Record<string, string> {
    return { baseUrl: this.baseUrl, key: this.keyHint };
  }
}

export function createClient(options: ClientOptions = {}): CrowdeeClient {
  return new CrowdeeClient(options);
}
