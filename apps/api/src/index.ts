/**
 * What other workspace packages may import from the API: its router type, for typed clients, and the types that
 * router type names (context, procedure meta), so importers that emit declarations (`tsc -b`) can spell them.
 */
export type { AppDeps } from './app-deps.ts';
export type { Context } from './context.ts';
export type { Meta } from './procedure-meta.ts';
export type { AppRouter } from './routers/index.ts';
