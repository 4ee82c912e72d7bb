/** What other workspace packages may import from the API: its router type, for typed clients. */
export type { AppRouter } from './routers/index.ts';
