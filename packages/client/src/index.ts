export { type ClientOptions, CrowdeeClient, createClient } from './client.ts';
export { CrowdeeApiError, CrowdeeConfigError, type FieldError, isCrowdeeApiError } from './errors.ts';
export type { ApiStatus, CallOptions, Me, NewProject, Project, ProjectPage, ProjectPatch } from './rest.ts';
export { RestClient } from './rest.ts';
export * from './throttle/index.ts';
