import { z } from 'zod';
import { actorOf } from '../context.ts';
import {
  beginTotpEnrolment,
  confirmTotpEnrolment,
  disableTotp,
  regenerateRecoveryCodes,
  totpStatus,
} from '../services/totp.service.ts';
import { router, sessionProcedure } from '../trpc.ts';

const recoveryCodesOut = z.object({
  recoveryCodes: z
    .array(z.string())
    .describe('Ten single-use codes, shown this once: only their hashes are kept'),
  endedSessions: z.number().int().describe('Other sessions of the account that were signed out'),
});

/**
 * `auth.totp.*`: setting up an authenticator app, its recovery codes, turning it off. Every change ends the
 * account's other sessions and is audited; turning it off and new recovery codes need a second factor proven in
 * this session within the last 10 minutes (403 REAUTHENTICATION_REQUIRED with `acceptedMethods` otherwise).
 */
export const totpRouter = router({
  status: sessionProcedure
    .output(
      z.object({
        enabled: z.boolean(),
        pending: z.boolean(),
        confirmedAt: z.string().nullable(),
        recoveryCodesRemaining: z.number().int(),
      }),
    )
    .query(({ ctx }) => totpStatus(ctx.em, ctx.user.id)),

  /** A new secret for the app, as a QR code (PNG data URL) and for typing in; confirm it with a code next. */
  beginEnrolment: sessionProcedure
    .output(
      z.object({
        secret: z.string().describe('Base32, for typing into the app by hand'),
        otpauthUri: z.string(),
        qrCodeDataUrl: z.string(),
      }),
    )
    .mutation(({ ctx }) => beginTotpEnrolment(ctx.deps, ctx.em, ctx.user, ctx.session)),

  /** A code from the app turns it on and returns the recovery codes, once. */
  confirmEnrolment: sessionProcedure
    .meta({ rateLimit: 'second-factor' })
    .input(z.object({ code: z.string().min(1).max(20) }))
    .output(recoveryCodesOut)
    .mutation(({ ctx, input }) =>
      confirmTotpEnrolment(ctx.deps, ctx.em, actorOf(ctx), ctx.session, input.code),
    ),

  regenerateRecoveryCodes: sessionProcedure
    .output(recoveryCodesOut)
    .mutation(({ ctx }) => regenerateRecoveryCodes(ctx.deps, ctx.em, actorOf(ctx), ctx.session)),

  disable: sessionProcedure
    .output(z.object({ endedSessions: z.number().int() }))
    .mutation(({ ctx }) => disableTotp(ctx.deps, ctx.em, actorOf(ctx), ctx.session)),
});
