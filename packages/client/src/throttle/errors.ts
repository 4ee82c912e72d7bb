/**
 * Errors raised by the throttle itself.
 *
 * They carry only the method and a sanitized URL (origin + path): never request headers, query strings or
 * bodies, because these errors end up in logs and the request that caused them usually carries an
 * `Authorization: Bearer …` header.
 */

export type ThrottleErrorCode =
  | 'THROTTLE_ABORTED'
  | 'THROTTLE_CLOSED'
  | 'RETRY_LIMIT'
  | 'WAIT_TOO_LONG'
  | 'THROTTLE_UNAVAILABLE';

/** What the errors may say about the request: nothing that can hold a credential. */
export interface RequestSummary {
  readonly method: string;
  /** Origin and path only: query string, fragment and userinfo are stripped. */
  readonly url: string;
}

function describe(request: RequestSummary | undefined): string {
  return request ? `${request.method} ${request.url}: ` : '';
}

/** Base class: `instanceof ThrottleError` catches everything the throttle raises on its own account. */
export class ThrottleError extends Error {
  readonly code: ThrottleErrorCode;
  readonly method: string | undefined;
  readonly url: string | undefined;

  constructor(
    code: ThrottleErrorCode,
    message: string,
    request: RequestSummary | undefined,
    options?: ErrorOptions,
  ) {
    super(`${describe(request)}${message}`, options);
    this.name = 'ThrottleError';
    this.code = code;
    this.method = request?.method;
    this.url = request?.url;
  }
}

/**
 * The caller's `AbortSignal` fired. `name` is `AbortError`, like the DOMException `fetch` rejects with, so
 * code that checks `error.name === 'AbortError'` (tRPC, TanStack Query, most retry helpers) keeps working;
 * the signal's reason is the `cause`.
 */
export class ThrottleAbortedError extends ThrottleError {
  constructor(request: RequestSummary, reason: unknown) {
    super('THROTTLE_ABORTED', 'request aborted', request, { cause: reason });
    this.name = 'AbortError';
  }
}

/** The throttle was closed before this request could finish. */
export class ThrottleClosedError extends ThrottleError {
  constructor(request?: RequestSummary) {
    super('THROTTLE_CLOSED', 'the throttle is closed', request);
    this.name = 'ThrottleClosedError';
  }
}

/** Every allowed attempt was refused (429) or failed transiently (502/503/504, network error). */
export class RetryLimitError extends ThrottleError {
  /** Attempts actually sent to the server. */
  readonly attempts: number;
  /** Status of the last response, or undefined when the last attempt failed at the network level. */
  readonly lastStatus: number | undefined;

  constructor(request: RequestSummary, attempts: number, lastStatus: number | undefined, cause?: unknown) {
    const last = lastStatus === undefined ? 'a network error' : `HTTP ${lastStatus}`;
    super('RETRY_LIMIT', `gave up after ${attempts} attempts, the last one ended with ${last}`, request, {
      cause,
    });
    this.name = 'RetryLimitError';
    this.attempts = attempts;
    this.lastStatus = lastStatus;
  }
}

/**
 * The server asked for a longer wait than `maxWaitMs` allows. Failing fast beats a script that silently
 * sleeps for hours; the throttle stays paused for the whole time the server asked for.
 */
export class WaitTooLongError extends ThrottleError {
  readonly waitMs: number;
  readonly maxWaitMs: number;

  constructor(request: RequestSummary, waitMs: number, maxWaitMs: number) {
    super(
      'WAIT_TOO_LONG',
      `the server asks to wait ${Math.ceil(waitMs)} ms, more than maxWaitMs (${maxWaitMs} ms)`,
      request,
    );
    this.name = 'WaitTooLongError';
    this.waitMs = waitMs;
    this.maxWaitMs = maxWaitMs;
  }
}

/**
 * Cluster mode only: the shared Redis datastore did not become ready in time. The Redis error itself is not
 * attached because connection errors can echo connection details; `onError` receives those.
 */
export class ThrottleUnavailableError extends ThrottleError {
  constructor(request: RequestSummary, waitedMs: number) {
    super('THROTTLE_UNAVAILABLE', `the shared limiter in Redis was not ready after ${waitedMs} ms`, request);
    this.name = 'ThrottleUnavailableError';
  }
}
