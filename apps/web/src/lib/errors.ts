import { type ErrorCode, type FieldError, isErrorCode } from '@crowdee/core/errors';
import { isRole, type Role } from '@crowdee/core/roles';
import { TRPCClientError } from '@trpc/client';

export type ErrorKind =
  | 'network'
  | 'rate-limited'
  | 'forbidden'
  | 'unauthenticated'
  | 'not-found'
  | 'validation'
  | 'conflict'
  | 'server'
  | 'unknown';

/** What the UI needs to know about a failed call, read from our stable `error.data.code` rather than messages. */
export interface ErrorInfo {
  kind: ErrorKind;
  code: ErrorCode | null;
  title: string;
  message: string;
  /** For 403s: the role the action needs (`error.data.requiredRole`). */
  requiredRole: Role | null;
  /** For 429s: seconds until a retry can succeed (`error.data.retryAfter`, else the Retry-After header). */
  retryAfterSeconds: number | null;
  fieldErrors: FieldError[];
  /** Worth trying again as is: the network or the server failed, or a rate limit will reset. */
  retryable: boolean;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
}

function toFieldErrors(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  const out: FieldError[] = [];
  for (const item of value) {
    const r = asRecord(item);
    if (r && typeof r.path === 'string' && typeof r.message === 'string') {
      out.push({ path: r.path, message: r.message });
    }
  }
  return out;
}

function retryAfterHeader(meta: Record<string, unknown> | undefined): number | null {
  const response = meta?.response;
  if (!(response instanceof Response)) return null;
  const value = Number(response.headers.get('retry-after'));
  return Number.isFinite(value) && value >= 0 ? Math.ceil(value) : null;
}

function httpStatusOf(meta: Record<string, unknown> | undefined): number | null {
  const response = meta?.response;
  return response instanceof Response ? response.status : null;
}

const base = {
  code: null,
  requiredRole: null,
  retryAfterSeconds: null,
  fieldErrors: [],
  retryable: false,
} satisfies Partial<ErrorInfo>;

const networkError: ErrorInfo = {
  ...base,
  kind: 'network',
  title: 'Can’t reach Crowdee',
  message: 'Check your connection, then try again.',
  retryable: true,
};

const serverError: ErrorInfo = {
  ...base,
  kind: 'server',
  title: 'Something went wrong on our side',
  message: 'It has been logged. Try again in a moment.',
  retryable: true,
};

function rateLimited(seconds: number | null): ErrorInfo {
  return {
    ...base,
    kind: 'rate-limited',
    code: 'RATE_LIMITED',
    title: 'Too many requests',
    message:
      seconds === null
        ? 'Wait a moment, then try again.'
        : `Try again in ${seconds} ${plural(seconds, 'second')}.`,
    retryAfterSeconds: seconds,
    retryable: true,
  };
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

export function describeError(error: unknown): ErrorInfo {
  if (!(error instanceof TRPCClientError)) {
    return {
      ...base,
      kind: 'unknown',
      title: 'Something went wrong',
      message: 'Try again.',
      retryable: true,
    };
  }
  const meta = asRecord(error.meta) ?? undefined;
  const data = asRecord(error.data);
  if (!data) {
    // No tRPC envelope: the request never reached the API (offline, DNS, proxy down) or a proxy answered for it.
    const status = httpStatusOf(meta);
    if (status === 429) return rateLimited(retryAfterHeader(meta));
    if (status !== null && status >= 500) return serverError;
    return networkError;
  }
  const code = isErrorCode(data.code) ? data.code : null;
  const message = error.message || 'Something went wrong.';
  const info: ErrorInfo = { ...base, kind: 'unknown', code, title: 'Something went wrong', message };
  switch (code) {
    case 'RATE_LIMITED': {
      const seconds =
        typeof data.retryAfter === 'number' ? Math.ceil(data.retryAfter) : retryAfterHeader(meta);
      return rateLimited(seconds);
    }
    case 'FORBIDDEN': {
      const requiredRole = isRole(data.requiredRole) ? data.requiredRole : null;
      return {
        ...info,
        kind: 'forbidden',
        requiredRole,
        title: requiredRole ? `This needs the ${requiredRole} role` : 'Not allowed',
        message: requiredRole
          ? `${message} Ask an owner or admin of the organization for the ${requiredRole} role.`
          : message,
      };
    }
    case 'REAUTHENTICATION_REQUIRED':
      // Reached only when the "Confirm it’s you" dialog was cancelled: the action did not run.
      return { ...info, kind: 'forbidden', title: 'Confirm it’s you to continue' };
    case 'EMAIL_NOT_VERIFIED':
      return { ...info, kind: 'forbidden', title: 'Verify your email address first' };
    case 'TWO_FACTOR_REQUIRED':
      return { ...info, kind: 'forbidden', title: 'Two-factor sign-in required' };
    case 'TWO_FACTOR_NOT_ENROLLED':
      return { ...info, kind: 'conflict', title: 'Set up two-factor sign-in first' };
    case 'LINK_INVALID':
      return { ...info, kind: 'validation', title: 'This link no longer works' };
    case 'INVITATION_EXPIRED':
      return { ...info, kind: 'conflict', title: 'Invitation expired' };
    case 'SESSION_REQUIRED':
    case 'CSRF_REJECTED':
    case 'ORG_OUT_OF_SCOPE':
    case 'KEY_CUT_OFF':
      return { ...info, kind: 'forbidden', title: 'Not allowed' };
    case 'UNAUTHENTICATED':
      return {
        ...info,
        kind: 'unauthenticated',
        title: 'Signed out',
        message: 'Your session has ended. Sign in again.',
      };
    case 'INVALID_CREDENTIALS':
      return { ...info, kind: 'unauthenticated', title: 'Could not sign in' };
    case 'SECOND_FACTOR_INVALID':
      return { ...info, kind: 'validation', title: 'Code not accepted' };
    case 'SIGN_IN_CHALLENGE_INVALID':
      return { ...info, kind: 'unauthenticated', title: 'Sign in again' };
    case 'NOT_FOUND':
      return { ...info, kind: 'not-found', title: 'Not found' };
    case 'VALIDATION_FAILED':
    case 'BAD_REQUEST':
    case 'KEY_POLICY_VIOLATION':
    case 'BATCH_TOO_LARGE':
      return {
        ...info,
        kind: 'validation',
        title: 'Check the form',
        fieldErrors: toFieldErrors(data.fieldErrors),
      };
    case 'CONFLICT':
    case 'EMAIL_TAKEN':
    case 'LAST_OWNER':
      return { ...info, kind: 'conflict', title: 'Could not save' };
    case 'INTERNAL':
    case 'SERVICE_UNAVAILABLE':
      return { ...serverError, code };
    default:
      return info;
  }
}

/** Automatic retries only for failures that may pass by themselves; a 4xx will answer the same again. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  const { kind } = describeError(error);
  return failureCount < 2 && (kind === 'network' || kind === 'server');
}

/** The message for one form field, from the API's `fieldErrors`. */
export function fieldError(error: unknown, path: string): string | null {
  if (error === null || error === undefined) return null;
  return describeError(error).fieldErrors.find((f) => f.path === path)?.message ?? null;
}

/** The error to show above a form: one the API did not attach to a field (those show under their fields). */
export function formLevelError<E>(error: E | null): E | null {
  if (error === null || error === undefined) return null;
  return describeError(error).fieldErrors.length === 0 ? error : null;
}
