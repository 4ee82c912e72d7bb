export { type ClientOptions, CrowdeeClient, createClient } from './client.ts';
export { CrowdeeApiError, CrowdeeConfigError, type FieldError, isCrowdeeApiError } from './errors.ts';
export type { CallOptions, DatasetRef, IdempotentCallOptions, PageRequest, RunPoll } from './rest.ts';
export { RestClient } from './rest.ts';
export type * from './rest-types.ts';
export * from './throttle/index.ts';
