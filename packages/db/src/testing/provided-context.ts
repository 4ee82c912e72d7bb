/** What the global setup hands to test files through vitest's `inject`. */
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    databaseAdminUrl: string;
    databaseTemplate: string;
    databaseRunId: string;
  }
}
