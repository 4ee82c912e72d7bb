import { DomainError, ERROR_TABLE, type ErrorCode, type FieldError, isDomainError } from '@crowdee/core';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
]);

/** True when the database (not the request) is at fault: we answer 503, never 2xx, and never a 500 with details. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (typeof current === 'object' && current !== null) {
      const code = (current as { code?: unknown }).code;
      const name = (current as { name?: unknown }).name;
      if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
      if (name === 'KnexTimeoutError' || name === 'ConnectionException') return true;
      const message = (current as { message?: unknown }).message;
      if (
        typeof message === 'string' &&
        // The last two are what knex and pg say for a statement on a connection the server just terminated, with
        // no error code (found by the PostgreSQL outage test, where they were answered 500).
        /Connection terminated|connect ECONNREFUSED|Timeout acquiring a connection|Unable to acquire a connection|not currently accepting connections|database system is (starting up|shutting down)|Transaction query already complete|has encountered a connection error and is not queryable/i.test(
          message,
        )
      ) {
        return true;
      }
      current = (current as { cause?: unknown }).cause;
    } else {
      break;
    }
  }
  return false;
}

function zodFieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
}

const TRPC_TO_DOMAIN: Partial<Record<TRPCError['code'], ErrorCode>> = {
  PARSE_ERROR: 'BAD_REQUEST',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_SUPPORTED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

/**
 * Everything that can go wrong, reduced to a DomainError a client may see. Unknown errors become INTERNAL with
 * our generic message; the original stays attached as `cause` (for the server log, never the response).
 */
export function toDomainError(error: unknown): DomainError {
  if (isDomainError(error)) return error;
  const because = { cause: error };
  if (error instanceof TRPCError) {
    if (isDomainError(error.cause)) return error.cause;
    if (error.cause instanceof ZodError) {
      return new DomainError(
        'VALIDATION_FAILED',
        undefined,
        { fieldErrors: zodFieldErrors(error.cause) },
        because,
      );
    }
    if (error.cause && isDatabaseUnavailable(error.cause))
      return new DomainError('SERVICE_UNAVAILABLE', undefined, undefined, because);
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      return error.cause
        ? toDomainError(error.cause)
        : new DomainError('INTERNAL', undefined, undefined, because);
    }
    const code = TRPC_TO_DOMAIN[error.code];
    // tRPC's own messages for these (e.g. "No procedure found on path") are safe and useful.
    return new DomainError(
      code ?? 'INTERNAL',
      code ? error.message || undefined : undefined,
      undefined,
      because,
    );
  }
  if (error instanceof ZodError) {
    return new DomainError('VALIDATION_FAILED', undefined, { fieldErrors: zodFieldErrors(error) }, because);
  }
  if (isDatabaseUnavailable(error))
    return new DomainError('SERVICE_UNAVAILABLE', undefined, undefined, because);
  if (error instanceof UniqueConstraintViolationException)
    return new DomainError('CONFLICT', undefined, undefined, because);
  return new DomainError('INTERNAL', undefined, undefined, because);
}

/** Server faults are logged with their stack; client mistakes are not errors of ours. */
export function isServerFault(error: DomainError): boolean {
  return error.status >= 500;
}

export function toTrpcError(error: DomainError): TRPCError {
  return new TRPCError({ code: ERROR_TABLE[error.code].trpc, message: error.message, cause: error });
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Where a problem type is explained: its row on the error-code page (`/docs/errors`, one `id` per code). */
export function problemType(code: ErrorCode): string {
  return `/docs/errors#${code}`;
}

/**
 * The extras a client may see with an error, read from its details: the one list every transport renders (tRPC's
 * `error.data`, REST's problem details, errors raised before either adapter ran), so none can drop one.
 */
export interface ClientErrorFields {
  fieldErrors?: FieldError[];
  retryAfter?: number;
  violatedPolicies?: string[];
  requiredRole?: string;
  requiredPermission?: string;
  /** REAUTHENTICATION_REQUIRED: the ways this account may confirm who it is (`auth.confirmSudo`). */
  acceptedMethods?: string[];
  /** REAUTHENTICATION_REQUIRED: how long a confirmation keeps sensitive actions open, in seconds. */
  sudoWindowSeconds?: number;
}

export function clientErrorFields(error: DomainError): ClientErrorFields {
  const details = error.details ?? {};
  const fields: ClientErrorFields = {};
  if (Array.isArray(details.fieldErrors)) fields.fieldErrors = details.fieldErrors as FieldError[];
  if (typeof details.retryAfter === 'number') fields.retryAfter = details.retryAfter;
  if (Array.isArray(details.violatedPolicies)) fields.violatedPolicies = details.violatedPolicies as string[];
  if (typeof details.requiredRole === 'string') fields.requiredRole = details.requiredRole;
  if (typeof details.requiredPermission === 'string') fields.requiredPermission = details.requiredPermission;
  if (Array.isArray(details.acceptedMethods)) fields.acceptedMethods = details.acceptedMethods as string[];
  if (typeof details.sudoWindowSeconds === 'number') fields.sudoWindowSeconds = details.sudoWindowSeconds;
  return fields;
}

/** tRPC's error shape (`error` of a response) for a DomainError: tRPC's numeric code, our code in `data`. */
export function trpcErrorShape(error: DomainError, path: string | null) {
  const spec = ERROR_TABLE[error.code];
  return {
    message: error.message,
    code: TRPC_ERROR_CODES_BY_KEY[spec.trpc],
    data: {
      /** Our stable domain code (the same as REST's `code`), e.g. KEY_REVOKED or ORG_OUT_OF_SCOPE. */
      code: error.code,
      /** tRPC's own code, for clients that branch on it. */
      trpcCode: spec.trpc,
      httpStatus: error.status,
      path,
      ...clientErrorFields(error),
    },
  };
}

/** RFC 9457 problem details for a REST error, with our stable `code`. */
export function problemDetails(error: DomainError, instance?: string): Record<string, unknown> {
  const spec = ERROR_TABLE[error.code];
  const body: Record<string, unknown> = {
    type: problemType(error.code),
    title: spec.title,
    status: spec.status,
    code: error.code,
    detail: error.message,
  };
  if (instance) body.instance = instance;
  const {
    fieldErrors,
    retryAfter,
    violatedPolicies,
    requiredRole,
    requiredPermission,
    acceptedMethods,
    sudoWindowSeconds,
  } = clientErrorFields(error);
  if (fieldErrors) body.errors = fieldErrors;
  if (retryAfter !== undefined) body.retryAfter = retryAfter;
  if (violatedPolicies) body['violated-policies'] = violatedPolicies;
  if (requiredRole !== undefined) body.requiredRole = requiredRole;
  if (requiredPermission !== undefined) body.requiredPermission = requiredPermission;
  if (acceptedMethods) body.acceptedMethods = acceptedMethods;
  if (sudoWindowSeconds !== undefined) body.sudoWindowSeconds = sudoWindowSeconds;
  return body;
}
