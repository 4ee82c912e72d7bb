import { KEY_LENGTH } from '@crowdee/core';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import {
  createKey,
  listKeysForOrg,
  listMyKeys,
  renameKey,
  revokeCurrentKey,
  revokeKey,
  revokeLeakedKeys,
  rotateKey,
  updateAllowedIps,
} from '../services/api-keys.service.ts';
import { describeKey } from '../services/key-description.ts';
import { rangeOf, usageReport } from '../services/usage.service.ts';
import { keyProcedure, orgProcedure, publicProcedure, router, sessionProcedure } from '../trpc.ts';
import {
  allowedIpsInput,
  apiKeyOut,
  expiryInput,
  graceSchema,
  keyRoleSchema,
  nameSchema,
  okOut,
  permissionSchema,
  roleSchema,
  uuid,
} from './schemas.ts';
import { usageRangeInput, usageReportOut } from './usage.schemas.ts';

const createdOut = z.object({
  key: z.string().describe('The full key. Shown this once: store it now, it cannot be retrieved again.'),
  apiKey: apiKeyOut,
});

const tags = ['keys'];

/**
 * Key management is session-only: a key can never create, list, rename or rotate keys (a leaked key must not
 * be able to mint more). A key may only look at and revoke itself; anyone may report leaked keys.
 */
export const apiKeysRouter = router({
  /** Sudo mode: minting a key needs a recent confirmation of who is signed in. */
  create: sessionProcedure
    .meta({ sudo: true })
    .input(
      z.object({
        name: nameSchema(100),
        role: keyRoleSchema,
        orgIds: z.array(uuid).min(1).max(50).optional(),
        ...expiryInput,
        /** Only these catalogue permissions (within the role); absent = everything the role allows. */
        permissions: z.array(permissionSchema).max(100).optional(),
        /** Only from these CIDR ranges; absent or empty = anywhere. */
        allowedIps: allowedIpsInput.optional(),
      }),
    )
    .output(createdOut)
    .mutation(({ ctx, input }) =>
      createKey(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        { id: ctx.user.id, activeOrganizationId: ctx.session.activeOrganizationId },
        input,
      ),
    ),

  list: sessionProcedure
    .output(z.array(apiKeyOut))
    .query(({ ctx }) => listMyKeys(ctx.em, ctx.user.id, ctx.deps.clock())),

  listForOrg: orgProcedure('keys:manage-org')
    .output(z.array(apiKeyOut.extend({ effectiveRole: keyRoleSchema })))
    .query(({ ctx }) => listKeysForOrg(ctx.em, ctx.org.id, ctx.deps.clock())),

  /** Revokes one of my keys; with `orgId`, an admin of that organization may revoke any key that can act on it. */
  revoke: sessionProcedure
    .input(z.object({ id: uuid, orgId: uuid.optional() }))
    .output(apiKeyOut)
    .mutation(({ ctx, input }) => revokeKey(ctx.deps, ctx.em, actorOf(ctx), ctx.caller, input)),

  update: sessionProcedure
    .input(z.object({ id: uuid, name: nameSchema(100) }))
    .output(apiKeyOut)
    .mutation(({ ctx, input }) => renameKey(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, input)),

  /** The owner changes where a key may be used from; an empty list lifts the restriction. Every node, at once. */
  updateAllowedIps: sessionProcedure
    .meta({ sudo: true })
    .input(z.object({ id: uuid, allowedIps: allowedIpsInput }))
    .output(apiKeyOut)
    .mutation(({ ctx, input }) => updateAllowedIps(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, input)),

  rotate: sessionProcedure
    .meta({ sudo: true })
    .input(z.object({ id: uuid, gracePeriod: graceSchema }))
    .output(createdOut.extend({ previous: apiKeyOut }))
    .mutation(({ ctx, input }) => rotateKey(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, input)),

  current: keyProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/me',
        protect: true,
        tags,
        summary: 'The calling key, its creator and where it can act',
        description:
          'Who the key acts for and, for each organization it can reach, the creator’s role there, the role the key acts with (the lower of the two) and the permissions it holds there (what that role allows a key, narrowed to the subset the key was restricted to). `expiresSoon` is true in the last 7 days before `expiresAt`: rotate the key.',
      },
    })
    .output(
      z
        .object({
          key: z.object({
            id: uuid,
            name: z.string(),
            hint: z.string(),
            role: keyRoleSchema,
            scope: z.array(uuid).nullable(),
            expiresAt: z.string().nullable(),
            expiresSoon: z.boolean().describe('Expires within 7 days: rotate it now'),
            permissions: z
              .array(permissionSchema)
              .nullable()
              .describe(
                'The subset the key was restricted to at creation; null = everything its role allows',
              ),
            allowedIps: z
              .array(z.string())
              .nullable()
              .describe('CIDR ranges it may be used from; null = any'),
          }),
          creator: z.object({ id: uuid, name: z.string(), email: z.string() }),
          organizations: z.array(
            z.object({
              id: uuid,
              name: z.string(),
              creatorRole: roleSchema,
              effectiveRole: keyRoleSchema,
              permissions: z
                .array(permissionSchema)
                .describe('What the key may do here, now: its subset ∩ what its effective role allows a key'),
            }),
          ),
        })
        .meta({ id: 'Me', description: 'The calling key, its creator and the organizations it can act on' }),
    )
    .query(({ ctx }) => describeKey(ctx.key, ctx.deps.clock())),

  currentUsage: keyProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/keys/current/usage',
        protect: true,
        tags,
        summary: 'The calling key’s usage per hour',
        description:
          'Requests the calling key made, per UTC hour, by outcome (2xx, 4xx, 429, 5xx), from `from` to `to` (default: the last 30 days; at most 90 days, no further back than 90 days). Counts are written every few seconds, so the last ones may be up to one flush interval behind.',
      },
    })
    .input(z.object(usageRangeInput))
    .output(usageReportOut)
    .query(({ ctx, input }) =>
      usageReport(ctx.em, { kind: 'key', id: ctx.key.id }, rangeOf(input, ctx.deps.clock())),
    ),

  revokeCurrent: keyProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/keys/current',
        protect: true,
        tags,
        summary: 'Revoke the calling key',
        description: 'For a holder who finds the key exposed. The key stops working at once.',
      },
    })
    .output(okOut)
    .mutation(async ({ ctx }) => {
      await revokeCurrentKey(ctx.deps, ctx.em, actorOf(ctx), ctx.key);
      return { ok: true as const };
    }),

  revokeLeaked: publicProcedure
    .meta({
      rateLimit: 'leak-report',
      openapi: {
        method: 'POST',
        path: '/keys/revoke-leaked',
        protect: false,
        tags,
        summary: 'Report leaked keys',
        description:
          'Anyone who finds Crowdee API keys (cdk_) or session tokens (cds_) where they should not be may post up to 100 of them; valid ones are revoked (a session token ends at once) and their owners can see it in their audit log. The answer reveals only how many were revoked.',
      },
    })
    .input(
      z.object({
        keys: z
          .array(z.string().max(KEY_LENGTH * 2))
          .min(1)
          .max(100),
      }),
    )
    .output(
      z
        .object({ revoked: z.number().int() })
        .meta({ id: 'LeakReportResult', description: 'How many of the reported keys were revoked' }),
    )
    .mutation(async ({ ctx, input }) => ({
      revoked: await revokeLeakedKeys(ctx.deps, ctx.em, actorOf(ctx), input.keys),
    })),
});
