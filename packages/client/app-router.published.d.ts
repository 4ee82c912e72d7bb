/**
 * The published `AppRouter`: the API router's real type is made of the API's sources, which stay in the Crowdee
 * repository, so a client installed from a tarball has an untyped `trpc`. Use `rest`: its types are complete.
 * (tsconfig.build.json reads this instead of `@crowdee/api`; build.mjs ships it as dist/types/app-router.d.ts.)
 */
import type { AnyTRPCRouter } from '@trpc/server';

export type AppRouter = AnyTRPCRouter;
