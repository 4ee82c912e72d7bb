import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { inspect } from 'node:util';
import {
  parseRateLimit,
  parseRateLimitPolicies,
  parseRetryAfter,
  type RateLimitState,
} from '@crowdee/core/rate-limit-headers';
import { linkSignals, raceWithSignal, sleep } from './abortable.ts';
import { AdmissionQueue } from './admission-queue.ts';
import { type BackoffOptions, DEFAULT_BACKOFF, fullJitterDelay } from './backoff.ts';
import { createClusterBackend, type ThrottleRedisOptions } from './cluster-backend.ts';
import {
  type RequestSummary,
  RetryLimitError,
  ThrottleAbortedError,
  ThrottleClosedError,
  ThrottleError,
  ThrottleUnavailableError,
  WaitTooLongError,
} from './errors.ts';
import { createLocalBackend, type SlotBackend } from './limiter-backend.ts';
import { retryAfterSecondsFromBody, violatedPolicyFromBody } from './rate-limit-body.ts';
import { tighterReset } from './rate-limit-budget.ts';
import {
  type FetchFunction,
  isNetworkError,
  isTransientStatus,
  type PreparedRequest,
  prepareRequest,
} from './request.ts';

/** Where a 429's wait came from, in the order they are preferred. */
export type RetryAfterSource = 'retry-after' | 'ratelimit' | 'body' | 'default';

/** Why the whole throttle paused. */
export type PauseReason =
  /** A 429 told us to wait. */
  | 'rate-limited'
  /** A response showed `r=0`, or the local estimate of the window ran out: waiting avoids the 429. */
  | 'quota-exhausted'
  /** Another process sharing the Redis limiter paused it. */
  | 'cluster';

/** The policy a rate-limit signal refers to, with its quota when `RateLimit-Policy` names it. */
export interface RateLimitPolicyInfo {
  readonly name: string;
  readonly quota: number | undefined;
  readonly windowSeconds: number | undefined;
}

/** Passed to `onRateLimit` for every 429. Never contains headers or the query string. */
export interface RateLimitEvent {
  readonly method: string;
  /** Origin and path only. */
  readonly url: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly retryAfterMs: number;
  readonly source: RetryAfterSource;
  readonly policy: RateLimitPolicyInfo | undefined;
  /** Whether the request will be retried unless the hook vetoes (false at the retry limit, past `maxWaitMs`,
   * or for a body that cannot be sent twice). */
  readonly willRetry: boolean;
}

export interface RetryEvent {
  readonly method: string;
  readonly url: string;
  /** The attempt about to be made (2 for the first retry). */
  readonly attempt: number;
  readonly reason: 'rate-limited' | 'server-error' | 'network-error';
  /** Status that caused the retry; undefined for a network error. */
  readonly status: number | undefined;
  /** How long the retry waits before it queues again. */
  readonly delayMs: number;
}

export interface PauseEvent {
  readonly reason: PauseReason;
  readonly durationMs: number;
  /** Wall-clock epoch ms at which the pause ends. */
  readonly until: number;
  readonly policy: string | undefined;
}

export interface ThrottleOptions {
  /**
   * Requests in flight at once; with `redis`, across every process sharing the id. Default 10.
   */
  readonly maxConcurrent?: number;
  /** Minimum spacing in ms between two request starts (shared with `redis`). Default 0. */
  readonly minTime?: number;
  /** The fetch that actually sends. Default `globalThis.fetch`. */
  readonly fetch?: FetchFunction;
  /** Retries per request, 429s and transient failures together. Default 3. */
  readonly maxRetries?: number;
  /**
   * Longest wait the throttle accepts from a server. A 429 asking for more fails the request with
   * `WaitTooLongError` at once, and so does any request that would queue behind such a pause.
   * Default 120 000 ms.
   */
  readonly maxWaitMs?: number;
  /** Wait after a 429 that names none (no Retry-After, no `RateLimit` t, no body hint). Default 5 000 ms. */
  readonly defaultRetryAfterMs?: number;
  /** Back-off for 502/503/504 and network errors on idempotent requests. */
  readonly backoff?: BackoffOptions;
  /**
   * Called for every 429, after the throttle has paused. Return `false` to veto the retry: the 429
   * `Response` is then returned to the caller untouched. A throw rejects the request with that error.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that only observes, sync or async, returns nothing; only an explicit false vetoes.
  readonly onRateLimit?: (event: RateLimitEvent) => boolean | void | Promise<boolean | void>;
  /** Called before each retry waits. Errors thrown here go to `onError`. */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Called when a pause starts or is extended. Errors thrown here go to `onError`. */
  readonly onPause?: (event: PauseEvent) => void;
  /** Background errors that fail no request: Redis errors, errors thrown by `onRetry`/`onPause`. */
  readonly onError?: (error: unknown) => void;
  /** Share slots, spacing, pauses and the quota estimate with other processes through Redis. */
  readonly redis?: ThrottleRedisOptions;
}

export interface ThrottleStats {
  /** Attempts sent to the server. */
  readonly sent: number;
  /** `fetch` calls that resolved with a response. */
  readonly succeeded: number;
  /** 429 responses received. */
  readonly rateLimited: number;
  /** Attempts repeated after a 429 or a transient failure. */
  readonly retries: number;
  /** Attempts that gave their slot back unsent because a pause had begun meanwhile. */
  readonly deferred: number;
  /** `fetch` calls that rejected, aborts excluded. */
  readonly failed: number;
  /** `fetch` calls rejected because their signal aborted. */
  readonly aborted: number;
  /** Attempts on the wire now. */
  readonly inFlight: number;
  /** Requests waiting for a pause to end, for a slot, or for their `minTime` turn. */
  readonly queued: number;
  /** Wall-clock epoch ms at which the current pause ends, or null when not paused. */
  readonly pausedUntil: number | null;
}

/** A throttled `fetch` plus its lifecycle. */
export interface Throttle {
  /**
   * Drop-in `fetch`: pass it to tRPC's `httpLink({ fetch })` / `httpBatchLink({ fetch })` or use it in a
   * REST client. Already bound.
   */
  readonly fetch: FetchFunction;
  /** Resolves when the limiter can take requests; rejects if the Redis limiter cannot start. */
  ready(): Promise<void>;
  stats(): ThrottleStats;
  /**
   * Stops everything: queued and waiting requests reject with `ThrottleClosedError`, requests in flight are
   * aborted, timers are cleared and a Redis connection the throttle created is closed. Idempotent.
   */
  close(): Promise<void>;
}

type Counters = {
  -readonly [K in
    | 'sent'
    | 'succeeded'
    | 'rateLimited'
    | 'retries'
    | 'deferred'
    | 'failed'
    | 'aborted']: number;
};

interface ServerWait {
  readonly ms: number;
  readonly source: RetryAfterSource;
}

type AttemptOutcome =
  | { readonly kind: 'deferred' }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'response'; readonly response: Response }
  | {
      readonly kind: 'rate-limited';
      readonly response: Response;
      readonly wait: ServerWait;
      readonly policy: RateLimitPolicyInfo | undefined;
    };

interface Settings {
  readonly maxConcurrent: number;
  readonly minTime: number;
  readonly maxRetries: number;
  readonly maxWaitMs: number;
  readonly defaultRetryAfterMs: number;
  readonly backoff: Required<BackoffOptions>;
  readonly cluster: boolean;
}

/** 429 bodies are small problem documents; anything bigger is not worth buffering for a hint. */
const MAX_HINT_BODY_BYTES = 64 * 1024;
const DEFERRED: AttemptOutcome = { kind: 'deferred' };

/** Monotonic: pauses must not shrink or grow when the wall clock is adjusted. */
const monotonicNow = (): number => performance.now();

function requireNumber(name: string, value: number, min: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return value;
}

function resolveSettings(options: ThrottleOptions): Settings {
  return {
    maxConcurrent: requireNumber('maxConcurrent', options.maxConcurrent ?? 10, 1, true),
    minTime: requireNumber('minTime', options.minTime ?? 0, 0, false),
    maxRetries: requireNumber('maxRetries', options.maxRetries ?? 3, 0, true),
    maxWaitMs: requireNumber('maxWaitMs', options.maxWaitMs ?? 120_000, 0, false),
    defaultRetryAfterMs: requireNumber('defaultRetryAfterMs', options.defaultRetryAfterMs ?? 5_000, 0, false),
    backoff: {
      baseMs: requireNumber('backoff.baseMs', options.backoff?.baseMs ?? DEFAULT_BACKOFF.baseMs, 0, false),
      maxMs: requireNumber('backoff.maxMs', options.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs, 0, false),
    },
    cluster: options.redis !== undefined,
  };
}

async function discardBody(response: Response): Promise<void> {
  // An unread body pins its keep-alive connection until garbage collection.
  await response.body?.cancel().catch(() => undefined);
}

async function readJsonHint(response: Response): Promise<unknown> {
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return undefined;
  if (Number(response.headers.get('content-length') ?? 0) > MAX_HINT_BODY_BYTES) return undefined;
  try {
    // A clone, so a vetoed 429 reaches the caller with its body unread.
    const text = await response.clone().text();
    return text.length > MAX_HINT_BODY_BYTES ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whatever failed, an aborted request reports why it was aborted: the caller's signal or `close()`,
 * whichever came first (the linked signal keeps the first reason).
 */
function mapError(error: unknown, summary: RequestSummary, signal: AbortSignal): unknown {
  if (error instanceof ThrottleError && error.code !== 'THROTTLE_CLOSED') return error;
  if (!signal.aborted) return error;
  if (signal.reason instanceof ThrottleClosedError) return new ThrottleClosedError(summary);
  return new ThrottleAbortedError(summary, signal.reason);
}

class CrowdeeThrottle implements Throttle {
  readonly fetch: FetchFunction;
  readonly #settings: Settings;
  readonly #options: ThrottleOptions;
  readonly #underlying: FetchFunction;
  readonly #backend: SlotBackend;
  readonly #admission: AdmissionQueue;
  /** Tightest known reset of the server's current window (monotonic ms). */
  #resetAt: number | undefined;
  readonly #closer = new AbortController();
  readonly #counters: Counters = {
    sent: 0,
    succeeded: 0,
    rateLimited: 0,
    retries: 0,
    deferred: 0,
    failed: 0,
    aborted: 0,
  };
  #inFlight = 0;
  /** Admitted requests waiting inside Bottleneck for a slot or for their minTime turn. */
  #awaitingSlot = 0;
  #closing: Promise<void> | undefined;

  constructor(options: ThrottleOptions) {
    this.#settings = resolveSettings(options);
    this.#options = options;
    // Every pending request links its signal to this one, so `close()` reaches all of them.
    setMaxListeners(0, this.#closer.signal);
    this.#underlying = options.fetch ?? globalThis.fetch;
    const limiterSettings = {
      maxConcurrent: this.#settings.maxConcurrent,
      minTime: this.#settings.minTime,
      onError: (error: unknown) => this.#reportError(error),
      now: monotonicNow,
    };
    this.#backend = options.redis
      ? createClusterBackend({ ...limiterSettings, redis: options.redis })
      : createLocalBackend(limiterSettings);
    this.#admission = new AdmissionQueue({
      capacity: this.#settings.maxConcurrent,
      maxWaitMs: this.#settings.maxWaitMs,
      now: monotonicNow,
    });
    this.fetch = (input, init) => this.#fetch(input, init);
  }

  ready(): Promise<void> {
    return this.#backend.ready();
  }

  stats(): ThrottleStats {
    const pause = this.#admission.pauseRemainingMs();
    return {
      ...this.#counters,
      inFlight: this.#inFlight,
      queued: this.#admission.waiting + this.#awaitingSlot,
      pausedUntil: pause > 0 ? Date.now() + pause : null,
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Shows settings and counters only: options may hold Redis credentials and requests hold API keys. */
  [inspect.custom](_depth: number, options: object): string {
    const { maxConcurrent, minTime, maxRetries, maxWaitMs, cluster } = this.#settings;
    const summary = {
      maxConcurrent,
      minTime,
      maxRetries,
      maxWaitMs,
      cluster,
      closed: this.#closer.signal.aborted,
      stats: this.stats(),
    };
    return `CrowdeeThrottle ${inspect(summary, options)}`;
  }

  toJSON(): ThrottleStats {
    return this.stats();
  }

  async #shutdown(): Promise<void> {
    const closed = new ThrottleClosedError();
    // Abort first: every waiting or running request sees the close through its linked signal, so the
    // limiter's stop() below only waits for requests that are already unwinding.
    this.#closer.abort(closed);
    this.#admission.close(closed);
    await this.#backend.close();
  }

  async #fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = prepareRequest(input, init);
    const summary: RequestSummary = { method: request.method, url: request.url };
    if (this.#closer.signal.aborted) {
      this.#counters.failed++;
      throw new ThrottleClosedError(summary);
    }
    const link = linkSignals([request.signal, this.#closer.signal]);
    try {
      const response = await this.#send(request, summary, link.signal);
      this.#counters.succeeded++;
      return response;
    } catch (error) {
      const mapped = mapError(error, summary, link.signal);
      if (mapped instanceof ThrottleAbortedError) this.#counters.aborted++;
      else this.#counters.failed++;
      throw mapped;
    } finally {
      link.dispose();
    }
  }

  /** The retry loop. Every wait in it (pause, back-off) happens outside the limiter, holding no slot. */
  async #send(request: PreparedRequest, summary: RequestSummary, signal: AbortSignal): Promise<Response> {
    const { maxRetries, maxWaitMs } = this.#settings;
    const tooLong = (waitMs: number): Error => new WaitTooLongError(summary, waitMs, maxWaitMs);
    const unavailable = (waitedMs: number): Error => new ThrottleUnavailableError(summary, waitedMs);
    let attempts = 0;
    let priority = false;
    for (;;) {
      await this.#admission.acquire({ signal, priority, tooLong });
      // The admission is given back when the limiter job ends, not when an abort stops waiting for it: the
      // job may still sit in Bottleneck's queue, and that queue must stay within maxConcurrent.
      let started = false;
      this.#awaitingSlot++;
      const job = this.#backend
        .run({ priority, unavailable, signal }, () => {
          started = true;
          this.#awaitingSlot--;
          return this.#attempt(request, signal);
        })
        .finally(() => {
          if (!started) this.#awaitingSlot--;
          this.#admission.release();
        });
      const outcome = await raceWithSignal(job, signal);
      priority = true;
      if (outcome.kind === 'deferred') continue;
      attempts++;

      if (outcome.kind === 'error') {
        const { error } = outcome;
        if (signal.aborted || !isNetworkError(error) || !request.idempotent || !request.replayable)
          throw error;
        if (attempts > maxRetries) throw new RetryLimitError(summary, attempts, undefined, error);
        await this.#backoff(summary, attempts, 'network-error', undefined, undefined, signal);
        continue;
      }

      const { response } = outcome;
      if (outcome.kind === 'rate-limited') {
        if (!(await this.#shouldRetryRateLimited(outcome, request, summary, attempts))) return response;
        continue;
      }

      if (isTransientStatus(response.status) && request.idempotent && request.replayable) {
        const serverWait = parseRetryAfter(response.headers.get('retry-after'), Date.now());
        await discardBody(response);
        if (attempts > maxRetries) throw new RetryLimitError(summary, attempts, response.status);
        await this.#backoff(summary, attempts, 'server-error', response.status, serverWait, signal);
        continue;
      }
      return response;
    }
  }

  /**
   * Runs inside a limiter slot: last checks, then one attempt. The checks are repeated here because a pause
   * may have begun (another response, another process) between admission and getting the slot; such an
   * attempt gives its slot back unsent and queues again ahead of fresh requests.
   */
  async #attempt(request: PreparedRequest, signal: AbortSignal): Promise<AttemptOutcome> {
    signal.throwIfAborted();
    if (this.#admission.pauseRemainingMs() > 0) return this.#defer();
    const { quota } = this.#backend;
    const token = randomUUID();
    const wait = await quota.take(token);
    if (wait) {
      await this.#pause(monotonicNow() + wait.waitMs, wait.reason, undefined);
      return this.#defer();
    }

    // From here on the quota counts this request as in flight until it is settled, whatever happens.
    let settled = false;
    try {
      signal.throwIfAborted();
      this.#counters.sent++;
      this.#inFlight++;
      let response: Response;
      try {
        response = await request.send(this.#underlying, signal);
      } finally {
        this.#inFlight--;
      }
      const receivedAt = monotonicNow();
      const rateLimit = parseRateLimit(response.headers.get('ratelimit'));
      settled = true;
      await quota.settle(
        token,
        rateLimit?.resetSeconds === undefined
          ? undefined
          : { remaining: rateLimit.remaining, resetMs: rateLimit.resetSeconds * 1000 },
      );
      return await this.#inspectResponse(response, rateLimit, receivedAt);
    } catch (error) {
      if (!settled) await quota.settle(token, undefined);
      return { kind: 'error', error };
    }
  }

  #defer(): AttemptOutcome {
    this.#counters.deferred++;
    return DEFERRED;
  }

  /** Reads the rate-limit signals of a response while still holding its slot, so the next job sees them. */
  async #inspectResponse(
    response: Response,
    rateLimit: RateLimitState | undefined,
    receivedAt: number,
  ): Promise<AttemptOutcome> {
    if (response.status === 429) {
      this.#counters.rateLimited++;
      let body: Promise<unknown> | undefined;
      const hint = (): Promise<unknown> => {
        body ??= readJsonHint(response);
        return body;
      };
      const wait = await this.#serverWait(response, rateLimit, hint);
      const policyName = rateLimit?.policy ?? violatedPolicyFromBody(await hint());
      const policy = this.#policyInfo(response, policyName);
      // Measured from the arrival of the 429, not from whenever the body hint was read.
      await this.#pause(receivedAt + wait.ms, 'rate-limited', policyName);
      return { kind: 'rate-limited', response, wait, policy };
    }

    // Pro-active: the window is spent, so wait for its reset instead of collecting 429s — for the tightest
    // reset any response of this window has shown, not this response's rounded-up `t`.
    if (rateLimit?.resetSeconds !== undefined) {
      this.#resetAt = tighterReset(this.#resetAt, receivedAt + rateLimit.resetSeconds * 1000);
      if (rateLimit.remaining === 0 && rateLimit.resetSeconds) {
        await this.#pause(this.#resetAt, 'quota-exhausted', rateLimit.policy);
      }
    }
    return { kind: 'response', response };
  }

  async #serverWait(
    response: Response,
    rateLimit: RateLimitState | undefined,
    hint: () => Promise<unknown>,
  ): Promise<ServerWait> {
    const header = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    if (header !== undefined) return { ms: header, source: 'retry-after' };
    if (rateLimit?.resetSeconds !== undefined)
      return { ms: rateLimit.resetSeconds * 1000, source: 'ratelimit' };
    const seconds = retryAfterSecondsFromBody(await hint());
    if (seconds !== undefined) return { ms: seconds * 1000, source: 'body' };
    return { ms: this.#settings.defaultRetryAfterMs, source: 'default' };
  }

  #policyInfo(response: Response, name: string | undefined): RateLimitPolicyInfo | undefined {
    if (name === undefined) return undefined;
    const policy = parseRateLimitPolicies(response.headers.get('ratelimit-policy')).get(name);
    return { name, quota: policy?.quota, windowSeconds: policy?.windowSeconds };
  }

  /** Decides what happens after a 429; the pause is already in place. Returns true to retry. */
  async #shouldRetryRateLimited(
    outcome: Extract<AttemptOutcome, { kind: 'rate-limited' }>,
    request: PreparedRequest,
    summary: RequestSummary,
    attempts: number,
  ): Promise<boolean> {
    const { maxRetries, maxWaitMs } = this.#settings;
    const { response, wait } = outcome;
    const tooLong = wait.ms > maxWaitMs;
    const event: RateLimitEvent = {
      ...summary,
      attempt: attempts,
      retryAfterMs: wait.ms,
      source: wait.source,
      policy: outcome.policy,
      willRetry: request.replayable && !tooLong && attempts <= maxRetries,
    };
    let vetoed = false;
    if (this.#options.onRateLimit) {
      try {
        vetoed = (await this.#options.onRateLimit(event)) === false;
      } catch (error) {
        await discardBody(response);
        throw error;
      }
    }
    // A body that cannot be sent twice leaves the 429 to the caller, as a veto does.
    if (vetoed || !request.replayable) return false;
    await discardBody(response);
    if (tooLong) throw new WaitTooLongError(summary, wait.ms, maxWaitMs);
    if (attempts > maxRetries) throw new RetryLimitError(summary, attempts, 429);
    this.#counters.retries++;
    this.#notify(this.#options.onRetry, {
      ...summary,
      attempt: attempts + 1,
      reason: 'rate-limited',
      status: 429,
      delayMs: this.#admission.pauseRemainingMs(),
    });
    return true;
  }

  /** Sleeps before retrying a transient failure; the sleeping request holds neither an admission nor a slot. */
  async #backoff(
    summary: RequestSummary,
    attempts: number,
    reason: RetryEvent['reason'],
    status: number | undefined,
    serverWaitMs: number | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    // A 503 with Retry-After is honoured for this request only: overload is not a quota, so the rest of
    // the traffic keeps its own back-off.
    const delayMs = Math.max(fullJitterDelay(attempts - 1, this.#settings.backoff), serverWaitMs ?? 0);
    if (delayMs > this.#settings.maxWaitMs)
      throw new WaitTooLongError(summary, delayMs, this.#settings.maxWaitMs);
    this.#counters.retries++;
    this.#notify(this.#options.onRetry, { ...summary, attempt: attempts + 1, reason, status, delayMs });
    await sleep(delayMs, signal);
  }

  /** Pauses every request of this throttle (and, in cluster mode, of every process sharing it) until `until`. */
  async #pause(until: number, reason: PauseReason, policy: string | undefined): Promise<void> {
    const durationMs = until - monotonicNow();
    if (durationMs <= 0 || !this.#admission.pause(until)) return;
    this.#notify(this.#options.onPause, { reason, durationMs, until: Date.now() + durationMs, policy });
    if (reason !== 'cluster') await this.#backend.quota.sharePause(durationMs);
  }

  #notify<T>(hook: ((event: T) => void) | undefined, event: T): void {
    if (!hook) return;
    try {
      hook(event);
    } catch (error) {
      this.#reportError(error);
    }
  }

  #reportError(error: unknown): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // onError is the last resort; an error thrown there has nowhere left to go.
    }
  }
}

/**
 * Creates a throttled `fetch` for the Crowdee API: bounded concurrency and spacing (Bottleneck), a pause of
 * the whole throttle whenever the server says to wait, retries that hold no slot while they wait.
 *
 * @example
 * const throttle = createThrottle({ maxConcurrent: 5 });
 * const client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, fetch: throttle.fetch })] });
 */
export function createThrottle(options: ThrottleOptions = {}): Throttle {
  return new CrowdeeThrottle(options);
}
