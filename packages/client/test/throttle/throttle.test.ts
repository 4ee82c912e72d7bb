import { describe, expect, it, vi } from 'vitest';
import {
  type PauseEvent,
  type RateLimitEvent,
  type RetryEvent,
  RetryLimitError,
  ThrottleAbortedError,
  ThrottleClosedError,
  ThrottleUnavailableError,
  WaitTooLongError,
} from '../../src/throttle/index.ts';
import { startChild } from './support/child.ts';
import { CLOCK_TOLERANCE_MS, deferred, rejectionOf, serve, throttle, until } from './support/harness.ts';
import { createFixedWindow, type RecordedRequest, type Reply } from './support/rate-limit-server.ts';

const ok = (request: RecordedRequest): Reply => ({ status: 200, body: { n: request.n } });

/** Most tests here wait out real 1-2 s pauses: a hang detector with room for a machine loaded by scripts/load.mjs. */
const SLOW = { timeout: 300_000 };

function nth(requests: RecordedRequest[], index: number): RecordedRequest {
  const request = requests[index];
  if (!request) throw new Error(`the server saw only ${requests.length} requests, not ${index + 1}`);
  return request;
}

/** Milliseconds between the server writing request `from`'s reply and receiving request `to`. */
function gapAfterReply(requests: RecordedRequest[], from: number, to: number): number {
  return nth(requests, to).at - (nth(requests, from).repliedAt ?? Number.NaN);
}

describe('concurrency and spacing', SLOW, () => {
  it('never has more than maxConcurrent requests in flight', async () => {
    // Replies wait until three requests are held at once, then go together: the run can only finish if the
    // throttle really keeps three in flight, however slowly the machine schedules them (no timing involved).
    let held: Array<() => void> = [];
    const server = await serve(async (request) => {
      await new Promise<void>((release) => {
        held.push(release);
        if (held.length === 3) {
          for (const go of held) go();
          held = [];
        }
      });
      return ok(request);
    });
    const { fetch } = throttle({ maxConcurrent: 3 });

    const responses = await Promise.all(Array.from({ length: 12 }, () => fetch(server.url)));

    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(server.requests).toHaveLength(12);
    expect(server.maxInFlight).toBe(3);
  });

  it('spaces request starts by minTime', async () => {
    const server = await serve(ok);
    // Measured where the throttle hands the request over: arrival times at the server also carry
    // connection set-up and scheduling noise that have nothing to do with the spacing.
    const sentAt: number[] = [];
    const { fetch } = throttle({
      maxConcurrent: 5,
      minTime: 120,
      fetch: (input, init) => {
        sentAt.push(performance.now());
        return globalThis.fetch(input, init);
      },
    });

    const calledAt = performance.now();
    await Promise.all(Array.from({ length: 5 }, () => fetch(server.url)));

    // Bottleneck spaces the planned starts; a timer firing late under load can shorten one observed gap,
    // but the k-th request never leaves before k * minTime after the calls.
    expect(sentAt).toHaveLength(5);
    sentAt.forEach((at, k) => {
      expect(at - calledAt).toBeGreaterThanOrEqual(k * 120 - CLOCK_TOLERANCE_MS);
    });
  });
});

describe('waiting after a 429', SLOW, () => {
  it('waits Retry-After delta-seconds before retrying', async () => {
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : ok(request),
    );
    const limiter = throttle();

    const response = await limiter.fetch(server.url);

    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(2);
    expect(gapAfterReply(server.requests, 0, 1)).toBeGreaterThanOrEqual(1000 - CLOCK_TOLERANCE_MS);
    expect(limiter.stats()).toMatchObject({ sent: 2, rateLimited: 1, retries: 1, succeeded: 1, failed: 0 });
  });

  it('waits until a Retry-After HTTP-date', async () => {
    let retryAt = 0;
    const server = await serve((request) => {
      if (request.n > 1) return ok(request);
      // HTTP-dates have one-second resolution: the date sent is what the client must honour.
      const date = new Date(Date.now() + 2000).toUTCString();
      retryAt = Date.parse(date);
      return { status: 429, headers: { 'Retry-After': date } };
    });
    const { fetch } = throttle();

    const response = await fetch(server.url);

    expect(response.status).toBe(200);
    expect(retryAt - nth(server.requests, 0).wallAt).toBeGreaterThan(1000);
    expect(nth(server.requests, 1).wallAt).toBeGreaterThanOrEqual(retryAt - CLOCK_TOLERANCE_MS);
  });

  it('falls back to the RateLimit t of the 429', async () => {
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { RateLimit: '"key";r=0;t=1' } } : ok(request),
    );
    const events: RateLimitEvent[] = [];
    const { fetch } = throttle({ onRateLimit: (event) => void events.push(event) });

    expect((await fetch(server.url)).status).toBe(200);
    expect(gapAfterReply(server.requests, 0, 1)).toBeGreaterThanOrEqual(1000 - CLOCK_TOLERANCE_MS);
    expect(events[0]).toMatchObject({ retryAfterMs: 1000, source: 'ratelimit', policy: { name: 'key' } });
  });

  it('falls back to the problem+json retryAfter, then to the default', async () => {
    const server = await serve((request) => {
      if (request.n === 1) {
        return {
          status: 429,
          headers: { 'content-type': 'application/problem+json' },
          body: { status: 429, code: 'RATE_LIMITED', retryAfter: 1, 'violated-policies': ['anonymous'] },
        };
      }
      if (request.n === 2) return { status: 429, body: { status: 429 } };
      return ok(request);
    });
    const events: RateLimitEvent[] = [];
    const { fetch } = throttle({ defaultRetryAfterMs: 300, onRateLimit: (event) => void events.push(event) });

    expect((await fetch(server.url)).status).toBe(200);
    expect(events.map((event) => [event.source, event.retryAfterMs, event.policy?.name])).toEqual([
      ['body', 1000, 'anonymous'],
      ['default', 300, undefined],
    ]);
    expect(gapAfterReply(server.requests, 0, 1)).toBeGreaterThanOrEqual(1000 - CLOCK_TOLERANCE_MS);
    expect(gapAfterReply(server.requests, 1, 2)).toBeGreaterThanOrEqual(300 - CLOCK_TOLERANCE_MS);
  });

  it('retries a 429 for any method, POST included', async () => {
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '0' } } : ok(request),
    );
    const { fetch } = throttle();

    const response = await fetch(server.url, { method: 'POST', body: '{"name":"x"}' });

    expect(response.status).toBe(200);
    expect(server.requests.map((request) => request.method)).toEqual(['POST', 'POST']);
  });

  it('fails with WaitTooLongError instead of sleeping past maxWaitMs, and so do requests behind it', async () => {
    const server = await serve(() => ({ status: 429, headers: { 'Retry-After': '3600' } }));
    const limiter = throttle({ maxWaitMs: 5_000 });

    const error = await rejectionOf(limiter.fetch(`${server.url}/things`));
    const queued = await rejectionOf(limiter.fetch(`${server.url}/others`));

    expect(error).toBeInstanceOf(WaitTooLongError);
    expect(error).toMatchObject({ waitMs: 3_600_000, maxWaitMs: 5_000, method: 'GET' });
    expect(queued).toBeInstanceOf(WaitTooLongError);
    expect(server.requests).toHaveLength(1);
    // The throttle stays paused for as long as the server said: nothing is sent early.
    expect(limiter.stats().pausedUntil).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it('gives up with RetryLimitError after maxRetries retries', async () => {
    const server = await serve(() => ({ status: 429, headers: { 'Retry-After': '0' } }));
    const limiter = throttle({ maxRetries: 2 });

    const error = await rejectionOf(limiter.fetch(server.url));

    expect(error).toBeInstanceOf(RetryLimitError);
    expect(error).toMatchObject({ attempts: 3, lastStatus: 429 });
    expect(server.requests).toHaveLength(3);
    expect(limiter.stats()).toMatchObject({ rateLimited: 3, retries: 2, failed: 1 });
  });

  it('lets onRateLimit veto the retry: the 429 reaches the caller untouched', async () => {
    const server = await serve(() => ({
      status: 429,
      headers: {
        'Retry-After': '7',
        'RateLimit-Policy': '"key";q=1200;w=60',
        RateLimit: '"key";r=0;t=7',
        'content-type': 'application/problem+json',
      },
      body: { code: 'RATE_LIMITED', retryAfter: 7 },
    }));
    const events: RateLimitEvent[] = [];
    const { fetch } = throttle({
      onRateLimit: (event) => {
        events.push(event);
        return false;
      },
    });

    const response = await fetch(`${server.url}/v1/api-keys?token=secret-in-query#frag`, {
      method: 'DELETE',
    });

    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({ code: 'RATE_LIMITED', retryAfter: 7 });
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([
      {
        method: 'DELETE',
        url: `${server.url}/v1/api-keys`,
        attempt: 1,
        retryAfterMs: 7000,
        source: 'retry-after',
        policy: { name: 'key', quota: 1200, windowSeconds: 60 },
        willRetry: true,
      },
    ]);
  });

  it('rejects with the error an onRateLimit hook throws', async () => {
    const server = await serve(() => ({ status: 429, headers: { 'Retry-After': '0' } }));
    const { fetch } = throttle({
      onRateLimit: () => {
        throw new Error('hook failed');
      },
    });

    expect(await rejectionOf(fetch(server.url))).toMatchObject({ message: 'hook failed' });
  });
});

describe('pausing the whole throttle', SLOW, () => {
  it('holds back queued requests until the pause ends, and lets the retry go first', async () => {
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : ok(request),
    );
    const { fetch } = throttle({ maxConcurrent: 1 });

    await Promise.all(['A', 'B', 'C'].map((name) => fetch(server.url, { headers: { 'x-name': name } })));

    expect(server.requests.map((request) => request.headers['x-name'])).toEqual(['A', 'A', 'B', 'C']);
    for (const index of [1, 2, 3]) {
      expect(gapAfterReply(server.requests, 0, index)).toBeGreaterThanOrEqual(1000 - CLOCK_TOLERANCE_MS);
    }
  });

  it('holds back requests started during the pause even with free slots', async () => {
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : ok(request),
    );
    const paused = deferred<PauseEvent>();
    const { fetch } = throttle({ maxConcurrent: 10, onPause: (event) => paused.resolve(event) });

    const first = fetch(server.url, { headers: { 'x-name': 'A' } });
    expect(await paused.promise).toMatchObject({ reason: 'rate-limited' });
    const later = await Promise.all(
      ['B', 'C', 'D'].map((name) => fetch(server.url, { headers: { 'x-name': name } })),
    );
    await first;

    expect(later.every((response) => response.status === 200)).toBe(true);
    expect(server.requests).toHaveLength(5);
    for (const index of [1, 2, 3, 4]) {
      expect(gapAfterReply(server.requests, 0, index)).toBeGreaterThanOrEqual(1000 - CLOCK_TOLERANCE_MS);
    }
  });

  it('stops requests that already hold a slot but were not sent yet', async () => {
    // minTime keeps B and C registered in Bottleneck, waiting for their turn, when A's 429 arrives.
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : ok(request),
    );
    const limiter = throttle({ maxConcurrent: 5, minTime: 150 });

    await Promise.all(
      ['A', 'B', 'C'].map((name) => limiter.fetch(server.url, { headers: { 'x-name': name } })),
    );

    expect(server.requests).toHaveLength(4);
    for (const index of [1, 2, 3]) {
      expect(gapAfterReply(server.requests, 0, index)).toBeGreaterThanOrEqual(1000 - CLOCK_TOLERANCE_MS);
    }
    expect(limiter.stats().deferred).toBeGreaterThanOrEqual(1);
  });

  it('pauses before the 429 when a response shows the window is spent (r=0)', async () => {
    const window = createFixedWindow({ limit: 3, windowMs: 2000 });
    const server = await serve((request) => {
      const decision = window.take();
      return decision.allowed
        ? { status: 200, headers: window.headers(decision), body: { n: request.n } }
        : {
            status: 429,
            headers: { ...window.headers(decision), 'Retry-After': String(decision.resetSeconds) },
          };
    });
    const pauses: PauseEvent[] = [];
    const limiter = throttle({ maxConcurrent: 1, onPause: (event) => void pauses.push(event) });

    const responses = await Promise.all(Array.from({ length: 5 }, () => limiter.fetch(server.url)));

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(server.count(429)).toBe(0);
    expect(limiter.stats().rateLimited).toBe(0);
    expect(pauses[0]).toMatchObject({ reason: 'quota-exhausted', policy: 'key' });
    // The fourth request went out in the next window, not earlier.
    expect(nth(server.requests, 3).at).toBeGreaterThanOrEqual(window.windowEnd(nth(server.requests, 2).at));
  });

  it('keeps concurrent requests inside the window without any 429', async () => {
    const window = createFixedWindow({ limit: 12, windowMs: 2000 });
    const server = await serve((request) => {
      const decision = window.take();
      return decision.allowed
        ? { status: 200, headers: window.headers(decision), body: { n: request.n }, delayMs: 20 }
        : {
            status: 429,
            headers: { ...window.headers(decision), 'Retry-After': String(decision.resetSeconds) },
          };
    });
    const limiter = throttle({ maxConcurrent: 8 });

    const responses = await Promise.all(Array.from({ length: 30 }, () => limiter.fetch(server.url)));

    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(server.count(429)).toBe(0);
  });
});

describe('transient failures', SLOW, () => {
  const fastBackoff = { baseMs: 5, maxMs: 20 };

  it.each(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])('retries a 503 for idempotent %s', async (method) => {
    const server = await serve((request) => (request.n === 1 ? { status: 503 } : ok(request)));
    const retries: RetryEvent[] = [];
    const { fetch } = throttle({ backoff: fastBackoff, onRetry: (event) => void retries.push(event) });

    const response = await fetch(server.url, { method });

    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([
      expect.objectContaining({ method, attempt: 2, reason: 'server-error', status: 503 }),
    ]);
  });

  it.each([502, 504])('retries a %i for GET', async (status) => {
    const server = await serve((request) => (request.n === 1 ? { status } : ok(request)));
    const { fetch } = throttle({ backoff: fastBackoff });

    expect((await fetch(server.url)).status).toBe(200);
    expect(server.requests).toHaveLength(2);
  });

  it.each(['POST', 'PATCH'])('returns a 503 for %s as it is', async (method) => {
    const server = await serve((request) => (request.n === 1 ? { status: 503 } : ok(request)));
    const { fetch } = throttle({ backoff: fastBackoff });

    expect((await fetch(server.url, { method, body: '{}' })).status).toBe(503);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a POST that carries an Idempotency-Key', async () => {
    const server = await serve((request) => (request.n === 1 ? { status: 503 } : ok(request)));
    const { fetch } = throttle({ backoff: fastBackoff });

    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'Idempotency-Key': 'job-42' },
      body: '{}',
    });

    expect(response.status).toBe(200);
    expect(server.requests.map((request) => request.headers['idempotency-key'])).toEqual([
      'job-42',
      'job-42',
    ]);
  });

  it('retries a GET after a dropped connection', async () => {
    const server = await serve((request) => (request.n === 1 ? { status: 0, destroy: true } : ok(request)));
    const retries: RetryEvent[] = [];
    const { fetch } = throttle({ backoff: fastBackoff, onRetry: (event) => void retries.push(event) });

    expect((await fetch(server.url)).status).toBe(200);
    expect(retries).toEqual([expect.objectContaining({ reason: 'network-error', status: undefined })]);
  });

  it('does not retry a POST after a dropped connection', async () => {
    const server = await serve(() => ({ status: 0, destroy: true }));
    const { fetch } = throttle({ backoff: fastBackoff });

    const error = await rejectionOf(fetch(server.url, { method: 'POST', body: '{}' }));

    expect(error).toBeInstanceOf(TypeError);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up with RetryLimitError, keeping the last network error as cause', async () => {
    const server = await serve(() => ({ status: 0, destroy: true }));
    const { fetch } = throttle({ backoff: fastBackoff, maxRetries: 2 });

    const error = await rejectionOf(fetch(server.url));

    expect(error).toBeInstanceOf(RetryLimitError);
    expect(error).toMatchObject({ attempts: 3, lastStatus: undefined });
    expect((error as RetryLimitError).cause).toBeInstanceOf(TypeError);
    expect(server.requests).toHaveLength(3);
  });

  it('counts 429s and transient failures against one retry limit', async () => {
    const server = await serve((request) =>
      request.n % 2 === 1 ? { status: 503 } : { status: 429, headers: { 'Retry-After': '0' } },
    );
    const { fetch } = throttle({ backoff: fastBackoff, maxRetries: 3 });

    expect(await rejectionOf(fetch(server.url))).toMatchObject({ attempts: 4, lastStatus: 429 });
    expect(server.requests).toHaveLength(4);
  });

  it('a retry waiting out its back-off holds no slot', async () => {
    // The 503 asks for a 1 s wait; with a single slot, B can only be served meanwhile if A's wait is
    // outside the limiter.
    const server = await serve((request) =>
      request.n === 1 ? { status: 503, headers: { 'Retry-After': '1' } } : ok(request),
    );
    const { fetch } = throttle({ maxConcurrent: 1, backoff: fastBackoff });

    const a = fetch(server.url, { headers: { 'x-name': 'A' } });
    await until(() => server.requests.length === 1, 'A reached the server');
    const b = await fetch(server.url, { headers: { 'x-name': 'B' } });
    expect((await a).status).toBe(200);

    expect(b.status).toBe(200);
    expect(server.requests.map((request) => request.headers['x-name'])).toEqual(['A', 'B', 'A']);
    expect(gapAfterReply(server.requests, 0, 2)).toBeGreaterThanOrEqual(1000 - CLOCK_TOLERANCE_MS);
  });
});

describe('aborting', SLOW, () => {
  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    const server = await serve(ok);
    const { fetch } = throttle();

    const error = await rejectionOf(fetch(server.url, { signal: AbortSignal.abort() }));

    expect(error).toBeInstanceOf(ThrottleAbortedError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'THROTTLE_ABORTED' });
    expect(server.requests).toHaveLength(0);
  });

  it('takes a request waiting for a pause out of the queue, for good', async () => {
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : ok(request),
    );
    const limiter = throttle({ onRateLimit: () => false });
    expect((await limiter.fetch(server.url)).status).toBe(429);

    const controller = new AbortController();
    const pending = rejectionOf(limiter.fetch(server.url, { signal: controller.signal }));
    await until(() => limiter.stats().queued === 1, 'the request is queued');
    const reason = new Error('user cancelled');
    controller.abort(reason);
    const error = await pending;

    expect(error).toBeInstanceOf(ThrottleAbortedError);
    expect((error as ThrottleAbortedError).cause).toBe(reason);
    expect(limiter.stats()).toMatchObject({ queued: 0, aborted: 1 });
    // Still inside the pause: the abort did not wait for it.
    expect(limiter.stats().pausedUntil).not.toBeNull();
    await until(() => limiter.stats().pausedUntil === null, 'the pause ended');
    expect(server.requests).toHaveLength(1);
  });

  it('cuts a back-off short and makes no further attempt', async () => {
    // A back-off far longer than the test's timeout: had the abort waited for it, the test could not pass.
    const server = await serve((request) =>
      request.n === 1 ? { status: 503, headers: { 'Retry-After': '3600' } } : ok(request),
    );
    const retried = deferred<RetryEvent>();
    const limiter = throttle({ maxWaitMs: 7_200_000, onRetry: (event) => retried.resolve(event) });
    const controller = new AbortController();

    const pending = rejectionOf(limiter.fetch(server.url, { signal: controller.signal }));
    expect((await retried.promise).delayMs).toBeGreaterThanOrEqual(3_600_000);
    controller.abort();

    expect(await pending).toBeInstanceOf(ThrottleAbortedError);
    // Nothing is left waiting to make a further attempt: no queued retry, nothing on the wire.
    expect(limiter.stats()).toMatchObject({ queued: 0, inFlight: 0, aborted: 1, retries: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('aborts a request in flight', async () => {
    const server = await serve(() => ({ status: 200, hang: true }));
    const { fetch } = throttle();
    const controller = new AbortController();

    const pending = rejectionOf(fetch(server.url, { signal: controller.signal }));
    await until(() => server.requests.length === 1, 'the request reached the server');
    controller.abort();

    expect(await pending).toBeInstanceOf(ThrottleAbortedError);
  });

  it('removes a request queued behind busy slots', async () => {
    const server = await serve((request) => ({ ...ok(request), delayMs: 300 }));
    const limiter = throttle({ maxConcurrent: 1 });
    const controller = new AbortController();

    const first = limiter.fetch(server.url);
    const second = rejectionOf(limiter.fetch(server.url, { signal: controller.signal }));
    await until(() => limiter.stats().queued === 1, 'the second request is queued');
    controller.abort();

    expect(await second).toBeInstanceOf(ThrottleAbortedError);
    expect((await first).status).toBe(200);
    expect(server.requests).toHaveLength(1);
  });
});

describe('inputs', SLOW, () => {
  it('accepts a Request, replaying its body on a retry', async () => {
    const bodies: string[] = [];
    const server = await serve((request) => (request.n === 1 ? { status: 503 } : ok(request)));
    const { fetch } = throttle({
      backoff: { baseMs: 1, maxMs: 1 },
      fetch: async (input, init) => {
        if (input instanceof Request) bodies.push(await input.clone().text());
        return globalThis.fetch(input, init);
      },
    });

    const request = new Request(`${server.url}/jobs`, {
      method: 'POST',
      headers: { 'Idempotency-Key': 'k-1', 'content-type': 'application/json' },
      body: '{"job":1}',
    });
    const response = await fetch(request);

    expect(response.status).toBe(200);
    expect(bodies).toEqual(['{"job":1}', '{"job":1}']);
  });

  it('accepts a URL object and is assignable to the fetch type', async () => {
    const server = await serve(ok);
    const limiter = throttle();
    const asFetch: typeof globalThis.fetch = limiter.fetch;

    expect((await asFetch(new URL('/x', server.url))).status).toBe(200);
  });

  it('rejects invalid options early', () => {
    expect(() => throttle({ maxConcurrent: 0 })).toThrow(RangeError);
    expect(() => throttle({ minTime: -1 })).toThrow(RangeError);
    expect(() => throttle({ maxRetries: 1.5 })).toThrow(RangeError);
    expect(() => throttle({ redis: { connection: 'redis://127.0.0.1:1', id: 'has spaces' } })).toThrow(
      TypeError,
    );
  });
});

describe('close', SLOW, () => {
  it('rejects queued, paused and in-flight requests and refuses new ones', async () => {
    const server = await serve((request) => {
      if (request.headers['x-name'] === 'hang') return { status: 200, hang: true };
      return { status: 429, headers: { 'Retry-After': '30' } };
    });
    const limiter = throttle({ maxConcurrent: 2 });

    const inFlight = rejectionOf(limiter.fetch(server.url, { headers: { 'x-name': 'hang' } }));
    await until(() => server.requests.length === 1, 'the hanging request is in flight');
    const paused = rejectionOf(limiter.fetch(server.url));
    await until(() => limiter.stats().pausedUntil !== null, 'the throttle is paused');
    const queued = rejectionOf(limiter.fetch(server.url));

    await limiter.close();

    for (const error of await Promise.all([inFlight, paused, queued])) {
      expect(error).toBeInstanceOf(ThrottleClosedError);
    }
    expect(await rejectionOf(limiter.fetch(server.url))).toBeInstanceOf(ThrottleClosedError);
    await limiter.close(); // idempotent
    expect(server.requests).toHaveLength(2);
  });

  it('leaves no timer behind', async () => {
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    // An hour's pause: a pause timer left behind would outlive the poll below, whatever else runs meanwhile.
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '3600' } } : ok(request),
    );
    const before = timers();
    const limiter = throttle({ minTime: 50, maxWaitMs: 7_200_000 });

    const waiting = rejectionOf(limiter.fetch(server.url));
    await until(() => limiter.stats().pausedUntil !== null, 'the throttle is paused');
    const queued = rejectionOf(limiter.fetch(server.url));
    await until(() => limiter.stats().queued === 2, 'both requests wait for the pause');

    await limiter.close();
    await Promise.all([waiting, queued]);
    // Polled, because unrelated timers (keep-alive sockets of this and earlier tests) come and go on their own
    // within seconds; Bottleneck's own setTimeout(0) yields drain at once. Only a leaked pause timer stays.
    await until(() => timers() <= before, 'no timer of the throttle remains');
  });

  it('lets the process exit by itself right after close(), even mid-pause', async () => {
    const server = await serve(() => ({ status: 429, headers: { 'Retry-After': '3600' } }));
    const child = startChild('close-exit.ts', { url: server.url });

    const paused = await child.next('paused');
    const closed = await child.next('closed');
    // Far below the hour's pause, however loaded the machine: nothing the throttle scheduled kept it alive.
    const exit = await child.exited(120_000);

    expect(paused.pausedForMs).toBeGreaterThan(3_000_000);
    expect(closed.rejectedAsClosed).toEqual([true, true]);
    expect(exit).toMatchObject({ code: 0, timedOut: false });
  });

  it('fails requests fast and closes cleanly when the Redis of a cluster is unreachable', async () => {
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const server = await serve(ok);
    const errors: unknown[] = [];
    const before = timers();
    const limiter = throttle({
      // Port 1: nothing listens, ioredis keeps reconnecting in the background.
      redis: { connection: 'redis://127.0.0.1:1', id: 'unreachable', readyTimeoutMs: 200 },
      onError: (error) => errors.push(error),
    });

    const error = await rejectionOf(limiter.fetch(server.url));
    const aborted = new AbortController();
    const waiting = rejectionOf(limiter.fetch(server.url, { signal: aborted.signal }));
    aborted.abort();

    expect(error).toBeInstanceOf(ThrottleUnavailableError);
    expect(await waiting).toBeInstanceOf(ThrottleAbortedError);
    // The refusal comes from the ready timeout; ioredis's own connection error may reach onError a little later on
    // a loaded machine (a hang detector, not a speed limit).
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 30_000, interval: 50 });
    expect(server.requests).toHaveLength(0);
    await limiter.close();
    // ioredis gives a socket that never connected up to `disconnectTimeout` (2 s) to close before it
    // destroys it; after that nothing of the throttle may remain.
    await until(() => timers() <= before, 'every timer is gone');
  });
});
