import {
  SECOND_FACTOR_METHODS,
  SESSION_TOKEN_MAX_TTL_SECONDS,
  SESSION_TOKEN_MIN_TTL_SECONDS,
  SIGN_IN_METHODS,
  VERIFICATION_METHODS,
} from '@crowdee/core';
import { z } from 'zod';
import { actorOf, type Context } from '../context.ts';
import { signIn, signUp } from '../services/accounts.service.ts';
import {
  requestEmailChange,
  resendVerification,
  verifyEmail,
} from '../services/email-verification.service.ts';
import { changePassword, requestPasswordReset, resetPassword } from '../services/password-changes.service.ts';
import { createSessionToken, refreshSessionToken } from '../services/session-tokens.service.ts';
import { describeSignedIn, signOut } from '../services/sessions.service.ts';
import { completeSignIn } from '../services/sign-in-challenges.ts';
import { confirmSudo } from '../services/sudo.service.ts';
import { publicProcedure, router, sessionProcedure, sessionTokenProcedure } from '../trpc.ts';
import { passkeyAssertionInput, passkeysRouter } from './passkeys.router.ts';
import {
  emailSchema,
  nameSchema,
  okOut,
  oneTimeTokenSchema,
  passwordSchema,
  roleSchema,
  sessionTokenOut,
  userOut,
  uuid,
} from './schemas.ts';
import { totpRouter } from './totp.router.ts';

const signedInOut = z.object({ user: userOut });
const signInOut = z.discriminatedUnion('status', [
  z.object({ status: z.literal('signed-in'), user: userOut }),
  z.object({
    status: z.literal('second-factor-required'),
    challengeToken: z
      .string()
      .describe('Answer it with `auth.completeSignIn` within 5 minutes; it takes at most 5 answers'),
    methods: z.array(z.enum(SECOND_FACTOR_METHODS)).describe('How this account can answer the second step'),
    expiresAt: z.string(),
  }),
]);
const challengeToken = z.string().min(1).max(200);
const completeSignInInput = z.union([
  z.strictObject({ challengeToken, totpCode: z.string().min(1).max(20) }),
  z.strictObject({ challengeToken, recoveryCode: z.string().min(1).max(40) }),
]);
const previousSessionOf = (ctx: Context) =>
  ctx.auth.kind === 'session' ? { id: ctx.auth.session.id, userId: ctx.auth.user.id } : null;
const ttlSeconds = z
  .number()
  .int()
  .min(SESSION_TOKEN_MIN_TTL_SECONDS)
  .max(SESSION_TOKEN_MAX_TTL_SECONDS)
  .optional()
  .describe('Lifetime in seconds: 15 minutes when omitted, at most one hour, never past the session');
const signedInDescription = z.object({
  user: userOut,
  /** An address the account asked to move to, waiting for its verification link. */
  pendingEmail: z.string().nullable(),
  session: z.object({
    createdAt: z.string(),
    expiresAt: z.string(),
    authMethod: z.enum(SIGN_IN_METHODS).describe('How this sign-in was proven'),
    verifiedAt: z.string().nullable().describe('When the holder last proved who they are (sign-in or sudo)'),
    sudoExpiresAt: z
      .string()
      .nullable()
      .describe(
        'When the open sudo window closes (server clock); null when sensitive actions need a confirmation',
      ),
  }),
  activeOrganization: z.object({ id: uuid, name: z.string(), role: roleSchema }).nullable(),
  twoFactor: z.object({
    enabled: z.boolean(),
    /** The second factors the account has enrolled. */
    methods: z.array(z.enum(['totp', 'passkey'])),
  }),
});

/** Exactly one proof per confirmation (a stray second field is refused, never silently ignored). */
const sudoProofInput = z.union([
  z.strictObject({ password: passwordSchema }),
  z.strictObject({ totpCode: z.string().min(1).max(20) }),
  z.strictObject({ recoveryCode: z.string().min(1).max(40) }),
  z.strictObject({ passkey: passkeyAssertionInput }),
]);

export const authRouter = router({
  passkeys: passkeysRouter,

  signUp: publicProcedure
    .meta({ rateLimit: 'sign-up' })
    .input(z.object({ email: emailSchema, password: passwordSchema, name: nameSchema(200) }))
    .output(signedInOut)
    .mutation(async ({ ctx, input }) => {
      const result = await signUp(ctx.deps, ctx.em, input, ctx.request);
      ctx.cookies.set(result.token, result.expiresAt);
      return { user: result.user };
    }),

  /**
   * Signed in at once (cookie set), or — for an account with a second factor — `second-factor-required` with a
   * challenge token and no session yet: answer it with `auth.completeSignIn` (or a passkey).
   */
  signIn: publicProcedure
    .meta({ rateLimit: 'sign-in' })
    .input(z.object({ email: z.string().max(320), password: passwordSchema }))
    .output(signInOut)
    .mutation(async ({ ctx, input }) => {
      const result = await signIn(ctx.deps, ctx.em, input, ctx.request, previousSessionOf(ctx));
      if (result.status === 'second-factor-required')
        return { ...result, expiresAt: result.expiresAt.toISOString() };
      ctx.cookies.set(result.token, result.expiresAt);
      return { status: 'signed-in' as const, user: result.user };
    }),

  /**
   * The second step of sign-in: the challenge token and exactly one of a code from the authenticator app
   * (`totpCode`) or an unused recovery code (`recoveryCode`). Wrong answer → SECOND_FACTOR_INVALID; a challenge
   * expired, used, or after 5 answers → SIGN_IN_CHALLENGE_INVALID (sign in again).
   */
  completeSignIn: publicProcedure
    .meta({ rateLimit: 'second-factor' })
    .input(completeSignInInput)
    .output(z.object({ status: z.literal('signed-in'), user: userOut }))
    .mutation(async ({ ctx, input }) => {
      const result = await completeSignIn(ctx.deps, ctx.em, input, ctx.request, previousSessionOf(ctx));
      ctx.cookies.set(result.token, result.expiresAt);
      return { status: 'signed-in' as const, user: result.user };
    }),

  /** The authenticator app (TOTP) and its recovery codes: session-only. */
  totp: totpRouter,

  signOut: sessionProcedure.output(okOut).mutation(async ({ ctx }) => {
    await signOut(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, ctx.session.id);
    ctx.cookies.clear();
    return { ok: true as const };
  }),

  me: sessionProcedure
    .output(signedInDescription)
    .query(({ ctx }) => describeSignedIn(ctx.em, ctx.user, ctx.session, ctx.deps.clock())),

  /**
   * Like `me`, but answers `null` instead of UNAUTHENTICATED when no browser session is signed in (an API key is
   * not a browser session either): the settings app asks this on every load, and a signed-out visitor is normal,
   * not an error.
   */
  session: publicProcedure
    .output(signedInDescription.nullable())
    .query(({ ctx }) =>
      ctx.auth.kind === 'session'
        ? describeSignedIn(ctx.em, ctx.auth.user, ctx.auth.session, ctx.deps.clock())
        : null,
    ),

  /**
   * Sudo mode: confirms who holds this session, so sensitive actions (`meta({ sudo: true })`) are open for the next
   * 10 minutes. Takes what the account accepts (REAUTHENTICATION_REQUIRED's `acceptedMethods`): the password only
   * when no second factor is enrolled. Rate-limited per user; every attempt audited.
   */
  confirmSudo: sessionProcedure
    .meta({ rateLimit: 'reauthentication' })
    .input(sudoProofInput)
    .output(
      z.object({
        verifiedAt: z.string(),
        sudoExpiresAt: z.string(),
        method: z.enum(VERIFICATION_METHODS),
      }),
    )
    .mutation(({ ctx, input }) => confirmSudo(ctx.deps, ctx.em, actorOf(ctx), ctx.session, input)),

  /**
   * A short-lived bearer token (`cds_…`) bound to this sign-in, for a first-party service that acts for the user
   * behind their browser session. It acts with the user's current roles, never for session-only actions, and ends
   * with the session. Shown once; only its hash is stored. Session-only: a key or a token cannot mint one.
   */
  createSessionToken: sessionProcedure
    .input(z.object({ audience: nameSchema(100), ttlSeconds }))
    .output(
      z.object({
        token: z.string().describe('The full token. Shown this once: it cannot be retrieved again.'),
        sessionToken: sessionTokenOut,
      }),
    )
    .mutation(({ ctx, input }) => createSessionToken(ctx.deps, ctx.em, actorOf(ctx), ctx.session, input)),

  /** Called with the token itself: extends it from now (default 15 min, at most 1 h) while its session lives. */
  refreshSessionToken: sessionTokenProcedure
    .input(z.object({ ttlSeconds }).optional())
    .output(sessionTokenOut)
    .mutation(({ ctx, input }) =>
      refreshSessionToken(ctx.deps, ctx.em, actorOf(ctx), ctx.token, input?.ttlSeconds),
    ),

  /** Follows a verification link (sign-up or change of address). The token is the credential: no session needed. */
  verifyEmail: publicProcedure
    .meta({ rateLimit: 'mailed-link' })
    .input(z.object({ token: oneTimeTokenSchema }))
    .output(z.object({ email: z.string() }))
    .mutation(({ ctx, input }) => verifyEmail(ctx.deps, ctx.em, actorOf(ctx), input.token)),

  /** A new verification link (rate-limited per user). The answer is the same if the address is already verified. */
  resendVerification: sessionProcedure
    .meta({ rateLimit: 'verification-email' })
    .output(okOut)
    .mutation(async ({ ctx }) => {
      await resendVerification(ctx.deps, ctx.em, ctx.user);
      return { ok: true as const };
    }),

  /** Moves the account to another address once that address confirms; until then nothing changes. */
  changeEmail: sessionProcedure
    .meta({ rateLimit: 'verification-email' })
    .input(z.object({ email: emailSchema, currentPassword: passwordSchema }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await requestEmailChange(ctx.deps, ctx.em, actorOf(ctx), ctx.user, input);
      return { ok: true as const };
    }),

  /** Ends every other session; this one stays. API keys are not touched (they are managed separately). */
  changePassword: sessionProcedure
    .meta({ rateLimit: 'password-change' })
    .input(z.object({ currentPassword: passwordSchema, newPassword: passwordSchema }))
    .output(z.object({ endedSessions: z.number().int() }))
    .mutation(({ ctx, input }) =>
      changePassword(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, ctx.session.id, input),
    ),

  /** Always the same answer, whether or not an account uses the address. Rate-limited per IP and per address. */
  requestPasswordReset: publicProcedure
    .meta({ rateLimit: 'password-reset' })
    .input(z.object({ email: emailSchema }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await requestPasswordReset(ctx.deps, ctx.em, actorOf(ctx), input.email);
      return { ok: true as const };
    }),

  /** Sets a new password from a reset link and ends every session of the account. */
  resetPassword: publicProcedure
    .meta({ rateLimit: 'mailed-link' })
    .input(z.object({ token: oneTimeTokenSchema, newPassword: passwordSchema }))
    .output(z.object({ endedSessions: z.number().int() }))
    .mutation(({ ctx, input }) => resetPassword(ctx.deps, ctx.em, actorOf(ctx), input)),
});
