import { KEY_MAX_LIFETIME_DAYS, STALE_KEY_POLICY_MAX_DAYS, STALE_KEY_POLICY_MIN_DAYS } from '@crowdee/core';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import {
  createOwnOrganization,
  deleteOrganization,
  getOrganization,
  listMyOrganizations,
  renameOrganization,
  setActiveOrganization,
  setKeyPolicy,
  setTwoFactorPolicy,
} from '../services/organizations.service.ts';
import { authenticatedProcedure, orgProcedure, router, sessionProcedure } from '../trpc.ts';
import { nameSchema, okOut, organizationOut, uuid } from './schemas.ts';

export const organizationsRouter = router({
  create: sessionProcedure
    .input(z.object({ name: nameSchema(100) }))
    .output(organizationOut)
    .mutation(({ ctx, input }) =>
      createOwnOrganization(ctx.deps, ctx.em, { ...actorOf(ctx), userId: ctx.user.id }, ctx.user, input.name),
    ),

  /** The organizations the caller belongs to, with the caller's role in each (for a key: where it may act, capped). */
  list: authenticatedProcedure
    .output(z.array(organizationOut))
    .query(({ ctx }) =>
      listMyOrganizations(ctx.em, ctx.caller.userId, ctx.caller.kind === 'key' ? ctx.caller.key : null),
    ),

  get: orgProcedure('org:read')
    .output(organizationOut)
    .query(({ ctx }) => getOrganization(ctx.em, ctx.org.id, ctx.org.role)),

  update: orgProcedure('org:update')
    .input(z.object({ name: nameSchema(100) }))
    .output(organizationOut)
    .mutation(({ ctx, input }) =>
      renameOrganization(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id, ctx.org.role, input.name),
    ),

  /** Sudo mode: deleting an organization needs a recent confirmation of who is signed in. */
  delete: orgProcedure('org:delete')
    .meta({ sudo: true })
    .output(okOut)
    .mutation(async ({ ctx }) => {
      await deleteOrganization(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id);
      return { ok: true as const };
    }),

  /** The active organization lives on the session and comes back from `auth.me`. */
  setActive: sessionProcedure
    .input(z.object({ orgId: uuid }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await setActiveOrganization(ctx.em, { id: ctx.session.id, userId: ctx.user.id }, input.orgId);
      return { ok: true as const };
    }),

  /** Sudo mode: the key policy bounds every key of the organization. */
  setKeyPolicy: orgProcedure('keys:manage-org')
    .meta({ sudo: true })
    .input(
      z.object({
        requireExpiry: z.boolean(),
        maxLifetimeDays: z.number().int().min(1).max(KEY_MAX_LIFETIME_DAYS).nullable(),
        revokeUnusedAfterDays: z
          .number()
          .int()
          .min(STALE_KEY_POLICY_MIN_DAYS)
          .max(STALE_KEY_POLICY_MAX_DAYS)
          .nullable()
          .optional()
          .describe(
            'Revoke (or cut off here) keys unused in this organization for this many days; null = off, omitted = unchanged',
          ),
      }),
    )
    .output(organizationOut)
    .mutation(({ ctx, input }) =>
      setKeyPolicy(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id, ctx.org.role, {
        requireExpiry: input.requireExpiry,
        maxLifetimeDays: input.maxLifetimeDays,
        revokeUnusedAfterDays: input.revokeUnusedAfterDays,
      }),
    ),

  /**
   * "Members must use two-factor sign-in" (owners, signed in). Members without a second factor, and the keys they
   * created, get TWO_FACTOR_REQUIRED here until they enrol; an owner without one cannot switch it on
   * (TWO_FACTOR_NOT_ENROLLED).
   */
  setTwoFactorPolicy: orgProcedure('org:two-factor-policy')
    .meta({ sudo: true })
    .input(z.object({ required: z.boolean() }))
    .output(organizationOut)
    .mutation(({ ctx, input }) =>
      setTwoFactorPolicy(
        ctx.deps,
        ctx.em,
        { ...actorOf(ctx), userId: ctx.caller.userId },
        ctx.org.id,
        ctx.org.role,
        input.required,
      ),
    ),
});
