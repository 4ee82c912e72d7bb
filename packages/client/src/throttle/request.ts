/**
 * Turns the `fetch(input, init)` arguments into what the throttle needs to schedule and replay a request,
 * without keeping the headers anywhere the throttle reports from.
 */

/** The standard `fetch` signature: what tRPC's links and a REST client call. */
export type FetchFunction = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/**
 * RFC 9110 §9.2.2 idempotent methods: repeating them has the same effect as sending them once, so they may
 * be retried after a transient failure (tRPC queries are GETs).
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * A POST or PATCH becomes safe to retry when it carries an `Idempotency-Key` (draft-ietf-httpapi-
 * idempotency-key-header): the server then answers a repeat with the first outcome. It is a plain header,
 * so it also works through tRPC's `headers` option for mutations.
 */
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export interface PreparedRequest {
  readonly method: string;
  /** Origin and path only, safe to log and hand to hooks. */
  readonly url: string;
  /** May be retried after a 502/503/504 or a network error. */
  readonly idempotent: boolean;
  /** The body can be sent again (a `ReadableStream` body cannot): without it nothing is retried. */
  readonly replayable: boolean;
  /** The caller's signal, from `init` or from the `Request`. */
  readonly signal: AbortSignal | undefined;
  /** Sends one attempt through `fetchFn` with `signal` replacing the caller's. */
  send(fetchFn: FetchFunction, signal: AbortSignal): Promise<Response>;
}

/**
 * Strips userinfo, query string and fragment: query strings carry tRPC inputs and sometimes tokens, and the
 * result goes into errors, hooks and logs.
 */
export function sanitizeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

function hasIdempotencyKey(headers: HeadersInit | undefined): boolean {
  // Inspected without building a `Headers`: its constructor throws on invalid values and quotes them in the
  // message, which would put a malformed `Authorization` value into an error raised here.
  if (!headers) return false;
  if (headers instanceof Headers) return headers.has(IDEMPOTENCY_KEY_HEADER);
  if (Array.isArray(headers)) {
    return headers.some((pair) => pair[0]?.toLowerCase() === IDEMPOTENCY_KEY_HEADER);
  }
  return Object.keys(headers).some((name) => name.toLowerCase() === IDEMPOTENCY_KEY_HEADER);
}

function isReplayableBody(body: BodyInit | null | undefined): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof URLSearchParams
  );
}

export function prepareRequest(input: RequestInfo | URL, init: RequestInit | undefined): PreparedRequest {
  if (input instanceof Request) {
    // One pristine Request; every attempt sends a clone so its body can be read again on a retry.
    const pristine = init ? new Request(input, init) : input;
    const method = pristine.method.toUpperCase();
    return {
      method,
      url: sanitizeUrl(pristine.url),
      idempotent: IDEMPOTENT_METHODS.has(method) || pristine.headers.has(IDEMPOTENCY_KEY_HEADER),
      replayable: !pristine.bodyUsed,
      signal: init?.signal ?? input.signal,
      send: (fetchFn, signal) => fetchFn(pristine.clone(), { signal }),
    };
  }
  const method = (init?.method ?? 'GET').toUpperCase();
  return {
    method,
    url: sanitizeUrl(input instanceof URL ? input.href : input),
    idempotent: IDEMPOTENT_METHODS.has(method) || hasIdempotencyKey(init?.headers),
    replayable: isReplayableBody(init?.body),
    signal: init?.signal ?? undefined,
    send: (fetchFn, signal) => fetchFn(input, { ...init, signal }),
  };
}

/** 502/503/504: the request most likely never reached the application, so an idempotent retry is safe. */
export function isTransientStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Codes that mean "will fail the same way again": retrying only delays the error. */
const PERMANENT_CODES = new Set(['ENOTFOUND', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/**
 * True for failures below HTTP: reset or refused connections, timeouts. Node's fetch (undici) reports all of
 * them as `TypeError('fetch failed')` with the socket error as `cause`; other fetch implementations put the
 * code on the error itself, so the whole cause chain is searched.
 */
export function isNetworkError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const code = codeOf(current);
    if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
    if (code !== undefined && PERMANENT_CODES.has(code)) return false;
    current = current instanceof Error ? current.cause : undefined;
  }
  return error instanceof TypeError && error.message === 'fetch failed';
}
