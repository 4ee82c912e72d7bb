/**
 * A real HTTP server (node:http, port 0) speaking the Crowdee rate-limit contract, for the throttle tests:
 * `RateLimit-Policy` / `RateLimit` on every response, 429 + `Retry-After` + problem+json (or a tRPC error on
 * /trpc) when refused. Handlers can also script any reply (503s, dropped sockets, HTTP-date Retry-After).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** 1-based arrival order. */
  readonly n: number;
  readonly method: string;
  /** Path with query string. */
  readonly path: string;
  /** `performance.now()` at arrival (same clock as the throttle's pauses). */
  readonly at: number;
  /** `Date.now()` at arrival, for HTTP-date comparisons. */
  readonly wallAt: number;
  readonly headers: IncomingMessage['headers'];
  status: number | undefined;
  /** `performance.now()` when the reply was written. */
  repliedAt: number | undefined;
  repliedWallAt: number | undefined;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Hold the reply this long (the request stays in flight). */
  readonly delayMs?: number;
  /** Drop the connection without answering: a network error for the client. */
  readonly destroy?: boolean;
  /** Never answer (until the server closes). */
  readonly hang?: boolean;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface TestServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Most requests open at the same time. */
  readonly maxInFlight: number;
  readonly count: (status: number) => number;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const respond = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const recorded: RecordedRequest = {
      n: requests.length + 1,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      at: performance.now(),
      wallAt: Date.now(),
      headers: req.headers,
      status: undefined,
      repliedAt: undefined,
      repliedWallAt: undefined,
    };
    requests.push(recorded);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    req.resume();
    try {
      const reply = await handler(recorded);
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (reply.hang) return;
      if (reply.destroy) {
        req.socket.destroy();
        return;
      }
      const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
      recorded.status = reply.status;
      recorded.repliedAt = performance.now();
      recorded.repliedWallAt = Date.now();
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        ...reply.headers,
      });
      res.end(body);
    } finally {
      inFlight--;
    }
  };

  const server = createServer((req, res) => {
    respond(req, res).catch(() => {
      res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    count: (status) => requests.filter((request) => request.status === status).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface FixedWindowOptions {
  readonly limit: number;
  readonly windowMs: number;
  readonly policy?: string;
  /** Latency of every reply. */
  readonly delayMs?: number;
}

export interface WindowDecision {
  readonly allowed: boolean;
  readonly remaining: number;
  /** Seconds until the window resets, rounded up as the contract's `t` is. */
  readonly resetSeconds: number;
  readonly windowIndex: number;
}

/**
 * A fixed-window counter like the API's: windows of `windowMs` aligned on the limiter's creation, `limit`
 * units each, `t` rounded up so a client never learns a reset earlier than the real one.
 */
export function createFixedWindow(options: FixedWindowOptions) {
  const origin = performance.now();
  const counts = new Map<number, number>();
  const policy = options.policy ?? 'key';
  return {
    policy,
    counts,
    /** When the window containing `at` (performance.now() ms) ends. */
    windowEnd(at: number): number {
      return origin + (Math.floor((at - origin) / options.windowMs) + 1) * options.windowMs;
    },
    take(now: number = performance.now()): WindowDecision {
      const windowIndex = Math.floor((now - origin) / options.windowMs);
      const used = (counts.get(windowIndex) ?? 0) + 1;
      const allowed = used <= options.limit;
      if (allowed) counts.set(windowIndex, used);
      const windowEnd = origin + (windowIndex + 1) * options.windowMs;
      return {
        allowed,
        remaining: Math.max(0, options.limit - Math.min(used, options.limit)),
        resetSeconds: Math.max(1, Math.ceil((windowEnd - now) / 1000)),
        windowIndex,
      };
    },
    headers(decision: WindowDecision): Record<string, string> {
      return {
        'RateLimit-Policy': `"${policy}";q=${options.limit};w=${Math.round(options.windowMs / 1000)}`,
        RateLimit: `"${policy}";r=${decision.remaining};t=${decision.resetSeconds}`,
      };
    },
  };
}

/** The 429 the REST API sends (problem+json) or, on /trpc, a tRPC error envelope. */
export function tooManyRequests(path: string, retryAfterSeconds: number, policy: string): unknown {
  if (path.startsWith('/trpc')) {
    return {
      error: {
        message: 'Too Many Requests',
        code: -32029,
        data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, retryAfter: retryAfterSeconds },
      },
    };
  }
  return {
    type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
    title: 'Too Many Requests',
    status: 429,
    code: 'RATE_LIMITED',
    detail: `Quota exceeded; retry in ${retryAfterSeconds} s.`,
    retryAfter: retryAfterSeconds,
    'violated-policies': [policy],
  };
}

/** A handler enforcing a fixed window, answering 200 `{ n }` or 429 with every header of the contract. */
export function rateLimitedHandler(options: FixedWindowOptions): Handler & {
  readonly window: ReturnType<typeof createFixedWindow>;
} {
  const window = createFixedWindow(options);
  const handler: Handler = (request) => {
    const decision = window.take();
    const headers = window.headers(decision);
    if (!decision.allowed) {
      return {
        status: 429,
        headers: {
          ...headers,
          'Retry-After': String(decision.resetSeconds),
          'content-type': 'application/problem+json',
        },
        body: tooManyRequests(request.path, decision.resetSeconds, window.policy),
        delayMs: options.delayMs,
      };
    }
    return { status: 200, headers, body: { n: request.n }, delayMs: options.delayMs };
  };
  return Object.assign(handler, { window });
}
