import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from '../../src/throttle/backoff.ts';
import { limiterIdFor } from '../../src/throttle/cluster-backend.ts';
import { isNetworkError, sanitizeUrl } from '../../src/throttle/request.ts';

describe('fullJitterDelay', () => {
  const backoff = { baseMs: 100, maxMs: 1_000 };

  it('draws uniformly below an exponentially growing ceiling', () => {
    expect(fullJitterDelay(0, backoff, () => 0)).toBe(0);
    expect(fullJitterDelay(0, backoff, () => 0.999)).toBe(99);
    expect(fullJitterDelay(2, backoff, () => 0.5)).toBe(200);
  });

  it('never exceeds maxMs', () => {
    expect(fullJitterDelay(30, backoff, () => 0.999)).toBe(999);
  });
});

describe('request helpers', () => {
  it('sanitizeUrl keeps origin and path only', () => {
    expect(sanitizeUrl('https://user:pw@api.example.com/trpc/a,b?batch=1&input=%7B%7D#x')).toBe(
      'https://api.example.com/trpc/a,b',
    );
    expect(sanitizeUrl('not a url')).toBe('<invalid url>');
  });

  it('isNetworkError recognises socket failures, not HTTP or permanent ones', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(isNetworkError(new TypeError('fetch failed', { cause: reset }))).toBe(true);
    expect(isNetworkError(reset)).toBe(true);
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    expect(isNetworkError(new TypeError('fetch failed', { cause: dns }))).toBe(false);
    expect(isNetworkError(new TypeError('Invalid URL'))).toBe(false);
    expect(isNetworkError(new DOMException('aborted', 'AbortError'))).toBe(false);
  });
});

describe('limiterIdFor', () => {
  it('is a truncated SHA-256 of the key (fixed vector), never the key itself', () => {
    const id = limiterIdFor('crd_live_example');
    expect(id).toBe('key-4752ec1a9d2f6bf346a3933e95bf2ea9');
    expect(id).not.toContain('crd_live_example');
    expect(limiterIdFor('crd_live_other')).not.toBe(id);
  });
});
