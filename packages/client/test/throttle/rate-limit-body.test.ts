import { describe, expect, it } from 'vitest';
import { retryAfterSecondsFromBody, violatedPolicyFromBody } from '../../src/throttle/rate-limit-body.ts';

describe('body hints', () => {
  it('reads the REST problem+json retryAfter and violated policy', () => {
    const body = { status: 429, code: 'RATE_LIMITED', retryAfter: 12, 'violated-policies': ['key'] };
    expect(retryAfterSecondsFromBody(body)).toBe(12);
    expect(violatedPolicyFromBody(body)).toBe('key');
  });

  it('reads tRPC errors, with and without a transformer, and batches', () => {
    expect(retryAfterSecondsFromBody({ error: { data: { retryAfter: 3 } } })).toBe(3);
    expect(retryAfterSecondsFromBody({ error: { json: { data: { retryAfter: '4' } } } })).toBe(4);
    expect(
      retryAfterSecondsFromBody([{ result: {} }, { error: { data: { retryAfter: 2 } } }, { error: {} }]),
    ).toBe(2);
  });

  it('ignores anything else', () => {
    expect(retryAfterSecondsFromBody('12')).toBeUndefined();
    expect(retryAfterSecondsFromBody({ retryAfter: -1 })).toBeUndefined();
    expect(retryAfterSecondsFromBody({ error: { data: { retryAfter: 'later' } } })).toBeUndefined();
  });
});
