import { inspect } from 'node:util';

/** A field-level validation problem reported by the API. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * An error answered by the Crowdee API, with its stable `code` (the same on REST and tRPC: UNAUTHENTICATED,
 * KEY_REVOKED, FORBIDDEN, ORG_OUT_OF_SCOPE, RATE_LIMITED, …). It never holds request headers, so it can never
 * carry the API key into a log.
 */
export class CrowdeeApiError extends Error {
  override readonly name = 'CrowdeeApiError';
  readonly status: number;
  readonly code: string;
  readonly method: string;
  /** The path called (ids only; keys are never in URLs). */
  readonly path: string;
  readonly fieldErrors: readonly FieldError[];
  /** Seconds the server asked to wait (429). */
  readonly retryAfter: number | undefined;
  /** The role an action needs (403 FORBIDDEN). */
  readonly requiredRole: string | undefined;
  /** The permission an action needs (403 FORBIDDEN), e.g. for a key restricted to other permissions. */
  readonly requiredPermission: string | undefined;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    method: string;
    path: string;
    fieldErrors?: FieldError[];
    retryAfter?: number | undefined;
    requiredRole?: string | undefined;
    requiredPermission?: string | undefined;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.method = init.method;
    this.path = init.path;
    this.fieldErrors = init.fieldErrors ?? [];
    this.retryAfter = init.retryAfter;
    this.requiredRole = init.requiredRole;
    this.requiredPermission = init.requiredPermission;
  }

  [inspect.custom](): string {
    return `CrowdeeApiError [${this.code}] ${this.status} ${this.method} ${this.path}: ${this.message}`;
  }
}

export function isCrowdeeApiError(error: unknown): error is CrowdeeApiError {
  return error instanceof CrowdeeApiError;
}

/** Thrown before any request when the configuration cannot work (no key, malformed key, no base URL). */
export class CrowdeeConfigError extends Error {
  override readonly name = 'CrowdeeConfigError';
}
