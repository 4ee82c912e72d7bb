export {
  parseRateLimit,
  parseRateLimitPolicies,
  parseRetryAfter,
  type RateLimitPolicy,
  type RateLimitState,
} from '@crowdee/core/rate-limit-headers';
export type { BackoffOptions } from './backoff.ts';
export { fullJitterDelay } from './backoff.ts';
export type { BulkFailure, BulkOptions, BulkProgress, BulkSummary } from './bulk.ts';
export { runBulk } from './bulk.ts';
export type { ThrottleRedisOptions } from './cluster-backend.ts';
export { limiterIdFor } from './cluster-backend.ts';
export type { RequestSummary, ThrottleErrorCode } from './errors.ts';
export {
  RetryLimitError,
  ThrottleAbortedError,
  ThrottleClosedError,
  ThrottleError,
  ThrottleUnavailableError,
  WaitTooLongError,
} from './errors.ts';
export { retryAfterSecondsFromBody } from './rate-limit-body.ts';
export type { FetchFunction } from './request.ts';
export type {
  PauseEvent,
  PauseReason,
  RateLimitEvent,
  RateLimitPolicyInfo,
  RetryAfterSource,
  RetryEvent,
  Throttle,
  ThrottleOptions,
  ThrottleStats,
} from './throttle.ts';
export { createThrottle } from './throttle.ts';
