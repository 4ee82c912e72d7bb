import { router } from '../trpc.ts';
import { apiKeysRouter } from './api-keys.router.ts';
import { auditRouter } from './audit.router.ts';
import { authRouter } from './auth.router.ts';
import { datasetsRouter } from './datasets.router.ts';
import { invitationsRouter } from './invitations.router.ts';
import { itemsRouter } from './items.router.ts';
import { limitsRouter } from './limits.router.ts';
import { membersRouter } from './members.router.ts';
import { metaRouter } from './meta.router.ts';
import { organizationsRouter } from './organizations.router.ts';
import { projectsRouter } from './projects.router.ts';
import { runsRouter } from './runs.router.ts';
import { sessionsRouter } from './sessions.router.ts';
import { usageRouter } from './usage.router.ts';

export const appRouter = router({
  meta: metaRouter,
  auth: authRouter,
  sessions: sessionsRouter,
  orgs: organizationsRouter,
  members: membersRouter,
  invitations: invitationsRouter,
  projects: projectsRouter,
  datasets: datasetsRouter,
  items: itemsRouter,
  audit: auditRouter,
  keys: apiKeysRouter,
  usage: usageRouter,
  limits: limitsRouter,
  runs: runsRouter,
});

export type AppRouter = typeof appRouter;
