import { z } from 'zod';
import { actorOf } from '../context.ts';
import { signIn, signUp } from '../services/accounts.service.ts';
import { recordAudit } from '../services/audit.service.ts';
import { deleteSession, describeSignedIn } from '../services/sessions.service.ts';
import { publicProcedure, router, sessionProcedure } from '../trpc.ts';
import { emailSchema, nameSchema, okOut, passwordSchema, roleSchema, userOut, uuid } from './schemas.ts';

const signedInOut = z.object({ user: userOut });
const signedInDescription = z.object({
  user: userOut,
  session: z.object({ createdAt: z.string(), expiresAt: z.string() }),
  activeOrganization: z.object({ id: uuid, name: z.string(), role: roleSchema }).nullable(),
});

export const authRouter = router({
  signUp: publicProcedure
    .meta({ rateLimit: 'sign-up' })
    .input(z.object({ email: emailSchema, password: passwordSchema, name: nameSchema(200) }))
    .output(signedInOut)
    .mutation(async ({ ctx, input }) => {
      const result = await signUp(ctx.deps, ctx.em, input, ctx.request);
      ctx.cookies.set(result.token, result.expiresAt);
      return { user: result.user };
    }),

  signIn: publicProcedure
    .meta({ rateLimit: 'sign-in' })
    .input(z.object({ email: z.string().max(320), password: passwordSchema }))
    .output(signedInOut)
    .mutation(async ({ ctx, input }) => {
      const previous = ctx.auth.kind === 'session' ? ctx.auth.session.id : null;
      const result = await signIn(ctx.deps, ctx.em, input, ctx.request, previous);
      ctx.cookies.set(result.token, result.expiresAt);
      return { user: result.user };
    }),

  signOut: sessionProcedure.output(okOut).mutation(async ({ ctx }) => {
    await deleteSession(ctx.em, ctx.session.id);
    recordAudit(ctx.em, actorOf(ctx), {
      action: 'auth.sign_out',
      target: { type: 'session', id: ctx.session.id },
      at: ctx.deps.clock(),
    });
    await ctx.em.flush();
    ctx.cookies.clear();
    return { ok: true as const };
  }),

  me: sessionProcedure
    .output(signedInDescription)
    .query(({ ctx }) => describeSignedIn(ctx.em, ctx.user, ctx.session)),

  /**
   * Like `me`, but answers `null` instead of UNAUTHENTICATED when no browser session is signed in (an API key is
   * not a browser session either): the settings app asks this on every load, and a signed-out visitor is normal,
   * not an error.
   */
  session: publicProcedure
    .output(signedInDescription.nullable())
    .query(({ ctx }) =>
      ctx.auth.kind === 'session' ? describeSignedIn(ctx.em, ctx.auth.user, ctx.auth.session) : null,
    ),
});
