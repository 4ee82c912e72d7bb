import { describe, expect, it } from 'vitest';
import { DomainError, ERROR_CODES, ERROR_TABLE, errorSpec, isErrorCode } from './errors.ts';

describe('error table', () => {
  it('maps the contract codes to their statuses', () => {
    expect(errorSpec('UNAUTHENTICATED').status).toBe(401);
    expect(errorSpec('KEY_REVOKED').status).toBe(401);
    expect(errorSpec('KEY_EXPIRED').status).toBe(401);
    expect(errorSpec('FORBIDDEN').status).toBe(403);
    expect(errorSpec('ORG_OUT_OF_SCOPE').status).toBe(403);
    expect(errorSpec('NOT_FOUND').status).toBe(404);
    expect(errorSpec('VALIDATION_FAILED').status).toBe(400);
    expect(errorSpec('PAYLOAD_TOO_LARGE').status).toBe(413);
    expect(errorSpec('BATCH_TOO_LARGE').status).toBe(413);
    expect(errorSpec('KEY_CUT_OFF').status).toBe(403);
    expect(errorSpec('IDEMPOTENCY_KEY_REUSED').status).toBe(422);
    expect(errorSpec('IDEMPOTENCY_KEY_IN_USE').status).toBe(409);
    expect(errorSpec('RATE_LIMITED')).toMatchObject({ status: 429, trpc: 'TOO_MANY_REQUESTS' });
  });

  it('keeps HTTP status and tRPC code consistent for every entry', () => {
    const trpcStatus: Record<string, number> = {
      BAD_REQUEST: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      METHOD_NOT_SUPPORTED: 405,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      UNPROCESSABLE_CONTENT: 422,
      TOO_MANY_REQUESTS: 429,
      INTERNAL_SERVER_ERROR: 500,
      SERVICE_UNAVAILABLE: 503,
    };
    for (const code of ERROR_CODES) {
      expect(trpcStatus[ERROR_TABLE[code].trpc], code).toBe(ERROR_TABLE[code].status);
      expect(code).toMatch(/^[A-Z_]+$/);
    }
  });

  it('carries code, status and default message', () => {
    const e = new DomainError('LAST_OWNER');
    expect(e.code).toBe('LAST_OWNER');
    expect(e.status).toBe(409);
    expect(e.message).toBe(ERROR_TABLE.LAST_OWNER.message);
    expect(new DomainError('FORBIDDEN', 'Needs admin.').message).toBe('Needs admin.');
    expect(isErrorCode('FORBIDDEN')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});
