/**
 * Every error a client can see, in one table: its stable code, HTTP status, tRPC code and default message.
 * Both transports (tRPC and REST) read this table; neither invents a status of its own.
 */
export type TrpcErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_SUPPORTED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNPROCESSABLE_CONTENT'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE';

interface ErrorSpec {
  status: number;
  trpc: TrpcErrorCode;
  title: string;
  message: string;
}

export const ERROR_TABLE = {
  VALIDATION_FAILED: {
    status: 400,
    trpc: 'BAD_REQUEST',
    title: 'Bad Request',
    message: 'The request is not valid: see the field errors.',
  },
  BAD_REQUEST: {
    status: 400,
    trpc: 'BAD_REQUEST',
    title: 'Bad Request',
    message: 'The request could not be read.',
  },
  LINK_INVALID: {
    status: 400,
    trpc: 'BAD_REQUEST',
    title: 'Bad Request',
    message: 'This link is not valid: it may have been used already or have expired. Ask for a new one.',
  },
  KEY_POLICY_VIOLATION: {
    status: 400,
    trpc: 'BAD_REQUEST',
    title: 'Bad Request',
    message: "The key does not satisfy an organization's key policy.",
  },
  INVALID_CREDENTIALS: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message: 'The email or password is incorrect.',
  },
  UNAUTHENTICATED: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message: 'Authentication required: send a valid API key as "Authorization: Bearer <key>", or sign in.',
  },
  KEY_REVOKED: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message: 'This API key has been revoked.',
  },
  KEY_EXPIRED: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message: 'This API key has expired.',
  },
  SECOND_FACTOR_INVALID: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message:
      'That code or passkey was not accepted: codes change every 30 seconds and each works once. Try the current code, a recovery code or a passkey.',
  },
  SIGN_IN_CHALLENGE_INVALID: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message: 'This sign-in attempt has expired or was used up: sign in again with your email and password.',
  },
  PASSKEY_INVALID: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message: 'This passkey was not accepted: it may have been removed, or the attempt expired. Try again.',
  },
  SESSION_TOKEN_EXPIRED: {
    status: 401,
    trpc: 'UNAUTHORIZED',
    title: 'Unauthorized',
    message:
      'This session token has expired: ask for a new one (auth.createSessionToken) or refresh it in time.',
  },
  FORBIDDEN: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message: 'Your role in this organization does not allow this action.',
  },
  SESSION_REQUIRED: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message: 'This action needs a signed-in session; API keys and session tokens cannot perform it.',
  },
  ORG_OUT_OF_SCOPE: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message: 'This API key is scoped to other organizations.',
  },
  KEY_CUT_OFF: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message:
      'An administrator of this organization has cut this API key off from it; it still works in your other organizations.',
  },
  IP_NOT_ALLOWED: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message:
      'This API key may only be used from the addresses on its allowlist, and this request came from elsewhere. Its owner can change the list under Settings → API Keys → Allowed IPs.',
  },
  REAUTHENTICATION_REQUIRED: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message:
      'This action needs a recent confirmation of who you are: confirm with your second factor (or your password, if you have none), then retry within 10 minutes.',
  },
  TWO_FACTOR_REQUIRED: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message:
      'This organization requires two-factor sign-in: enrol an authenticator app or a passkey under Settings → Security. Keys you created act here again once you have.',
  },
  CSRF_REJECTED: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message: 'Cross-site request refused: state-changing requests must come from this application.',
  },
  EMAIL_NOT_VERIFIED: {
    status: 403,
    trpc: 'FORBIDDEN',
    title: 'Forbidden',
    message: 'Verify your email address first: follow the link we sent, or ask for a new one.',
  },
  NOT_FOUND: { status: 404, trpc: 'NOT_FOUND', title: 'Not Found', message: 'Not found.' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    trpc: 'METHOD_NOT_SUPPORTED',
    title: 'Method Not Allowed',
    message: 'This method is not allowed here.',
  },
  CONFLICT: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message: 'This conflicts with existing data.',
  },
  EMAIL_TAKEN: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message: 'An account with this email already exists.',
  },
  LAST_OWNER: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message: 'An organization must keep at least one owner.',
  },
  TWO_FACTOR_NOT_ENROLLED: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message:
      'Set up two-factor sign-in on your own account (Settings → Security) before requiring it of this organization: otherwise the policy would lock you out.',
  },
  KEY_LIMIT_REACHED: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message: 'You hold the maximum number of active API keys: revoke one you no longer use first.',
  },
  INVITATION_EXPIRED: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message: 'This invitation has expired: ask for a new one.',
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message:
      'A request with this Idempotency-Key is still being processed: wait for its answer, then retry to have it replayed.',
  },
  LIMIT_REQUEST_PENDING: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message: 'This organization already has a limit request waiting for an operator: wait for its answer.',
  },
  LIMIT_REQUEST_DECIDED: {
    status: 409,
    trpc: 'CONFLICT',
    title: 'Conflict',
    message: 'This limit request has already been approved or denied.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    trpc: 'PAYLOAD_TOO_LARGE',
    title: 'Content Too Large',
    message: 'The request body is too large.',
  },
  BATCH_TOO_LARGE: {
    status: 413,
    trpc: 'PAYLOAD_TOO_LARGE',
    title: 'Content Too Large',
    message: 'A tRPC batch may hold at most 20 calls: split it into several requests.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    trpc: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported Media Type',
    message: 'Send the request body as application/json.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    trpc: 'UNPROCESSABLE_CONTENT',
    title: 'Unprocessable Content',
    message:
      'This Idempotency-Key was already used for a different request (another method, path or body): use a new key.',
  },
  RATE_LIMITED: {
    status: 429,
    trpc: 'TOO_MANY_REQUESTS',
    title: 'Too Many Requests',
    message: 'Rate limit exceeded.',
  },
  INTERNAL: {
    status: 500,
    trpc: 'INTERNAL_SERVER_ERROR',
    title: 'Internal Server Error',
    message: 'Something went wrong on our side. It has been logged.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    trpc: 'SERVICE_UNAVAILABLE',
    title: 'Service Unavailable',
    message: 'The service is temporarily unavailable. Try again shortly.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;
export const ERROR_CODES = Object.keys(ERROR_TABLE) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
}

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERROR_TABLE[code];
}

/** A field-level validation problem, as REST and tRPC callers receive it. */
export interface FieldError {
  path: string;
  message: string;
}

/** The one error type domain code throws. Safe to show: its message never carries secrets. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  /** `options.cause`: what actually went wrong, for the server log (it never reaches a client). */
  constructor(
    code: ErrorCode,
    message?: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message ?? ERROR_TABLE[code].message, options);
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
