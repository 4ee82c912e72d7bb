import { inspect } from 'node:util';
import { keyHint, MAX_BATCH_CALLS, parseKey, parseSessionBoundToken } from '@crowdee/core';
import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from './app-router.ts';
import { CrowdeeConfigError } from './errors.ts';
import { RestClient } from './rest.ts';
import {
  createThrottle,
  type FetchFunction,
  limiterIdFor,
  type Throttle,
  type ThrottleOptions,
} from './throttle/index.ts';

export interface ClientOptions {
  /** Defaults to CROWDEE_API_KEY. Never logged, never in errors or `inspect` output. */
  apiKey?: string;
  /**
   * A session token (`cds_…`, from `auth.createSessionToken`) instead of a key: for a first-party service acting
   * for the user behind a browser session. Never logged, like a key.
   */
  sessionToken?: string;
  /**
   * Where to get a (new) session token: called before the first call when no `sessionToken` is given, and again
   * when the API answers that the token expired — the call is then retried once with the new token.
   */
  getToken?: () => string | Promise<string>;
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
  #key: string | undefined;
  readonly #getToken: (() => string | Promise<string>) | undefined;
  readonly baseUrl: string;
  readonly rest: RestClient;
  readonly trpc: TRPCClient<AppRouter>;
  readonly throttle: Throttle | null;

  constructor(options: ClientOptions = {}) {
    const usesToken = options.sessionToken !== undefined || options.getToken !== undefined;
    if (usesToken && options.apiKey !== undefined)
      throw new CrowdeeConfigError('Pass either an API key or a session token, not both.');
    const key = usesToken ? options.sessionToken : (options.apiKey ?? process.env.CROWDEE_API_KEY);
    const baseUrl = (options.baseUrl ?? process.env.CROWDEE_API_URL)?.replace(/\/+$/, '');
    if (key !== undefined) checkCredential(key, usesToken);
    if (!baseUrl)
      throw new CrowdeeConfigError(
        'No API URL: set CROWDEE_API_URL (or pass baseUrl), e.g. https://api.crowdee.example',
      );
    this.#key = key;
    this.#getToken = options.getToken;
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
    const send = this.#withCredential(this.throttle?.fetch ?? base);
    // Checked when a call needs it, so public calls (status, leak reports) work without a key. The real value is
    // set by #withCredential, which may first have to ask getToken for a session token.
    const authorization = () => {
      if (this.#key === undefined && this.#getToken === undefined)
        throw new CrowdeeConfigError('No API key: set CROWDEE_API_KEY (or pass apiKey).');
      return 'Bearer';
    };
    this.rest = new RestClient(baseUrl, send, authorization);
    this.trpc = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${baseUrl}/trpc`,
          // The API refuses larger batches (413 BATCH_TOO_LARGE): split them here instead.
          maxItems: MAX_BATCH_CALLS,
          fetch: send,
          headers: () => ({ authorization: authorization() }),
        }),
      ],
    });
  }

  /**
   * Sends every authenticated call with the current credential; with `getToken`, fetches a session token first
   * when there is none and, when the API says the token expired, gets a new one and retries the call once.
   */
  #withCredential(send: FetchFunction): FetchFunction {
    return async (input, init) => {
      const headers = new Headers(init?.headers);
      if (!headers.has('authorization')) return send(input, init);
      if (this.#key === undefined) this.#key = await this.#nextToken();
      headers.set('authorization', `Bearer ${this.#key}`);
      const response = await send(input, { ...init, headers });
      if (!this.#getToken || response.status !== 401 || !(await saysTokenExpired(response))) return response;
      this.#key = await this.#nextToken();
      headers.set('authorization', `Bearer ${this.#key}`);
      return send(input, { ...init, headers });
    };
  }

  async #nextToken(): Promise<string> {
    if (!this.#getToken) throw new CrowdeeConfigError('No API key: set CROWDEE_API_KEY (or pass apiKey).');
    const token = await this.#getToken();
    checkCredential(token, true);
    return token;
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

function checkCredential(value: string, sessionToken: boolean): void {
  if (sessionToken ? parseSessionBoundToken(value).ok : parseKey(value).ok) return;
  throw new CrowdeeConfigError(
    sessionToken
      ? 'The session token is malformed: expected cds_ followed by 36 letters and digits.'
      : 'The API key is malformed: expected cdk_ followed by 36 letters and digits.',
  );
}

/** A 401 whose body (REST problem or tRPC error, batched or not) carries SESSION_TOKEN_EXPIRED. */
async function saysTokenExpired(response: Response): Promise<boolean> {
  try {
    return (await response.clone().text()).includes('"SESSION_TOKEN_EXPIRED"');
  } catch {
    return false;
  }
}

export function createClient(options: ClientOptions = {}): CrowdeeClient {
  return new CrowdeeClient(options);
}
