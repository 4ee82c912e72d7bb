/**
 * The API's router type, for the typed tRPC client. Inside this repository it is the real router type. The
 * router's types are made of the API's own sources (Express, MikroORM, …), which a package installed from a
 * tarball cannot carry, so the published declarations replace this module with a loose `AnyTRPCRouter` (see
 * build.mjs): outside the repository use `rest`, whose types are written out in `rest-types.ts`.
 */
export type { AppRouter } from '@crowdee/api';
