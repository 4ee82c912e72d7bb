import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  RetryLimitError,
  ThrottleAbortedError,
  ThrottleClosedError,
  WaitTooLongError,
} from '../../src/throttle/index.ts';
import { rejectionOf, serve, throttle, until } from './support/harness.ts';

const API_KEY = 'crd_live_7Jq2SECRETxVb9kLmN3pQ';
const REDIS_PASSWORD = 'hunter2-redis-SECRET';

const sensitive = {
  headers: { Authorization: `Bearer ${API_KEY}`, 'X-Api-Key': API_KEY, Cookie: `session=${API_KEY}` },
};

/** Every way an error or object usually reaches a log. */
function renderings(value: unknown): string[] {
  const out = [
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }),
    String(value),
    JSON.stringify(value) ?? '',
  ];
  if (value instanceof Error) out.push(value.stack ?? '', value.message);
  return out;
}

function expectClean(value: unknown): void {
  for (const text of renderings(value)) {
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('Bearer');
  }
}

describe('nothing the throttle produces reveals request headers or query strings', {
  timeout: 300_000,
}, () => {
  it('WaitTooLongError', async () => {
    const server = await serve(() => ({ status: 429, headers: { 'Retry-After': '9999' } }));
    const { fetch } = throttle();

    const error = await rejectionOf(fetch(`${server.url}/v1/keys?api_key=${API_KEY}`, sensitive));

    expect(error).toBeInstanceOf(WaitTooLongError);
    expect((error as WaitTooLongError).message).toContain(`GET ${server.url}/v1/keys:`);
    expectClean(error);
  });

  it('RetryLimitError after 503s and after network errors (with its cause)', async () => {
    const server = await serve((request) =>
      request.path.startsWith('/drop') ? { status: 0, destroy: true } : { status: 503 },
    );
    const { fetch } = throttle({ maxRetries: 1, backoff: { baseMs: 1, maxMs: 1 } });

    for (const path of ['/busy', '/drop']) {
      const error = await rejectionOf(fetch(`${server.url}${path}?token=${API_KEY}`, sensitive));
      expect(error).toBeInstanceOf(RetryLimitError);
      expectClean(error);
    }
  });

  it('ThrottleAbortedError and ThrottleClosedError', async () => {
    const server = await serve(() => ({ status: 200, hang: true }));
    const limiter = throttle();
    const controller = new AbortController();

    const aborted = rejectionOf(limiter.fetch(server.url, { ...sensitive, signal: controller.signal }));
    await until(() => server.requests.length === 1, 'the request is in flight');
    controller.abort();
    const closed = rejectionOf(limiter.fetch(`${server.url}/?t=${API_KEY}`, sensitive));
    await limiter.close();

    expect(await aborted).toBeInstanceOf(ThrottleAbortedError);
    expect(await closed).toBeInstanceOf(ThrottleClosedError);
    expectClean(await aborted);
    expectClean(await closed);
  });

  it('hook events', async () => {
    const server = await serve((request) =>
      request.n === 1 ? { status: 429, headers: { 'Retry-After': '0' } } : { status: 200 },
    );
    const events: unknown[] = [];
    const { fetch } = throttle({
      onRateLimit: (event) => void events.push(event),
      onRetry: (event) => void events.push(event),
      onPause: (event) => void events.push(event),
    });

    await fetch(`${server.url}/v1/things?key=${API_KEY}`, sensitive);

    expect(events.length).toBeGreaterThan(0);
    expectClean(events);
  });

  it('the throttle object, its stats and its options', async () => {
    const server = await serve(() => ({ status: 200 }));
    const limiter = throttle({
      // Never connects (port 1): only its rendering matters here.
      redis: { connection: `redis://:${REDIS_PASSWORD}@127.0.0.1:1/0`, id: 'key-0123', readyTimeoutMs: 50 },
      onError: () => undefined,
    });
    const local = throttle();
    await local.fetch(server.url, sensitive);

    for (const value of [limiter, local, limiter.stats(), local.stats()]) expectClean(value);
    expect(inspect(local)).toMatch(/^CrowdeeThrottle \{/);
    await limiter.close();
  });
});
