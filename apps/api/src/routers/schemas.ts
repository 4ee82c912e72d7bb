import {
  EMAIL_MAX_LENGTH,
  EXTERNAL_ID_MAX_LENGTH,
  EXTERNAL_ID_MESSAGES,
  externalIdProblem,
  INVITATION_STATUSES,
  ITEM_KINDS,
  KEY_ALLOWED_IPS_MAX,
  KEY_MAX_LIFETIME_DAYS,
  KEY_ROLES,
  PASSWORD_MAX_LENGTH,
  PERMISSION_NAMES,
  ROLES,
  ROTATION_GRACE_NAMES,
} from '@crowdee/core';
import { API_KEY_CUT_OFF_REASONS } from '@crowdee/db';
import { z } from 'zod';

/** Shared request and response schemas. Every procedure sets `.output()`, so responses list allowed fields only. */
export const roleSchema = z.enum(ROLES);
export const keyRoleSchema = z.enum(KEY_ROLES);
export const uuid = z.uuid();
/** A name from the permission catalogue: the schema follows the catalogue, so new permissions need no edit here. */
export const permissionSchema = z.enum(PERMISSION_NAMES);
/**
 * An allowlist as sent: bounded here, parsed and normalised by core's `parseAllowlist` (which names each bad entry).
 * One more than the maximum gets through to the parser so its message, not a generic one, explains the limit.
 */
export const allowedIpsInput = z
  .array(z.string().max(100))
  .max(KEY_ALLOWED_IPS_MAX + 1)
  .describe(`CIDR ranges (IPv4 or IPv6; a bare address is one host), at most ${KEY_ALLOWED_IPS_MAX}`);
const isoDate = z.string().describe('ISO 8601 date-time');

export const nameSchema = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'Required.')
    .max(max, `At most ${max} characters.`)
    .refine((s) => ![...s].some(isControlCharacter), 'Control characters are not allowed.');

function isControlCharacter(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

export const emailSchema = z
  .string()
  .trim()
  .max(EMAIL_MAX_LENGTH)
  .pipe(z.email('Enter a valid email address.'));
export const passwordSchema = z.string().max(PASSWORD_MAX_LENGTH);

export const userOut = z.object({
  id: uuid,
  email: z.string(),
  name: z.string(),
  emailVerified: z.boolean().describe('Whether the account proved it owns its address'),
});

/** A mailed link's token, as pasted back by the settings app. Shape is checked in core; this only bounds it. */
export const oneTimeTokenSchema = z.string().min(1).max(128);

export const invitationOut = z.object({
  id: uuid,
  email: z.string(),
  role: roleSchema,
  status: z.enum(INVITATION_STATUSES),
  invitedBy: z.object({ id: uuid, name: z.string() }).nullable(),
  createdAt: isoDate,
  expiresAt: isoDate,
});

export const myInvitationOut = z.object({
  id: uuid,
  organization: z.object({ id: uuid, name: z.string() }),
  role: roleSchema,
  invitedBy: z.object({ name: z.string() }).nullable(),
  createdAt: isoDate,
  expiresAt: isoDate,
});

export const keyPolicyOut = z.object({
  requireExpiry: z.boolean(),
  maxLifetimeDays: z.number().int().nullable(),
  revokeUnusedAfterDays: z
    .number()
    .int()
    .nullable()
    .describe('Keys unused in the organization for this many days are revoked or cut off there; null = off'),
});

export const organizationOut = z.object({
  id: uuid,
  name: z.string(),
  role: roleSchema,
  keyPolicy: keyPolicyOut,
  twoFactorRequired: z
    .boolean()
    .describe(
      'Members must use two-factor sign-in: members without a second factor, and their keys, cannot act here',
    ),
  blockedByTwoFactorPolicy: z
    .boolean()
    .describe(
      'The caller has no second factor and this organization requires one: enrol under Settings → Security',
    ),
  createdAt: isoDate,
});

export const memberOut = z.object({
  userId: uuid,
  name: z.string(),
  email: z.string(),
  role: roleSchema,
  joinedAt: isoDate,
});

export const sessionTokenOut = z.object({
  id: uuid,
  hint: z.string().describe('Enough to recognise the token, far too little to use it'),
  audience: z.string().describe('The service the token was made for'),
  createdAt: isoDate,
  expiresAt: isoDate,
  lastUsedAt: isoDate.nullable(),
});

export const sessionOut = z.object({
  id: z.string(),
  createdAt: isoDate,
  lastSeenAt: isoDate,
  expiresAt: isoDate,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean(),
  /** Live session tokens derived from this sign-in: they end with it. */
  tokens: z.array(sessionTokenOut),
});

export const projectOut = z
  .object({
    id: uuid,
    orgId: uuid,
    name: z.string(),
    description: z.string().nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'Project', description: 'A project of an organization' });

export const auditEventOut = z.object({
  id: uuid,
  action: z.string(),
  actorType: z.string(),
  actorUserId: z.string().nullable(),
  actorName: z.string().nullable(),
  actorKeyId: z.string().nullable(),
  actorTokenId: z.string().nullable(),
  actorKey: z
    .object({ id: uuid, name: z.string().nullable(), hint: z.string().nullable() })
    .nullable()
    .describe('The API key that acted, by name and hint (e.g. cdk_AbCd…wxyz) as they were at the time'),
  actorToken: z
    .object({ id: uuid, audience: z.string().nullable(), hint: z.string().nullable() })
    .nullable()
    .describe('The session token that acted, by audience and hint'),
  actorLabel: z.string().describe('Who acted, in one line, e.g. Ada · key “deploy” (cdk_AbCd…wxyz)'),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  createdAt: isoDate,
});

export const apiKeyOut = z.object({
  id: uuid,
  name: z.string(),
  hint: z.string().describe('Recognisable, unusable form of the key, e.g. cdk_AbCd…wxyz'),
  role: keyRoleSchema,
  scope: z
    .array(uuid)
    .nullable()
    .describe('Organization ids the key is confined to; null = any of its creator’s'),
  creator: z.object({ id: uuid, name: z.string(), email: z.string() }),
  createdAt: isoDate,
  expiresAt: isoDate.nullable(),
  revokedAt: isoDate.nullable(),
  revokedReason: z
    .string()
    .nullable()
    .describe('settings, self, leak-report, rotation, admin, or unused (an organization’s stale-key policy)'),
  revokedUnusedDays: z
    .number()
    .int()
    .nullable()
    .describe('With reason `unused`: revoked after this many days without use'),
  lastUsedAt: isoDate.nullable(),
  lastUsedIp: z.string().nullable(),
  rotatedFrom: uuid.nullable(),
  status: z.enum(['active', 'revoked', 'expired']),
  stale: z.boolean().describe('Not used for 30 days (counting from creation when never used)'),
  expiresSoon: z.boolean().describe('Active and expiring within 7 days: rotate it'),
  permissions: z
    .array(permissionSchema)
    .nullable()
    .describe(
      'The permissions it was restricted to at creation; null = everything its effective role allows',
    ),
  allowedIps: z.array(z.string()).nullable().describe('CIDR ranges it may be used from; null = any address'),
  cutOffs: z
    .array(
      z.object({
        orgId: uuid,
        orgName: z.string(),
        at: isoDate,
        reason: z
          .enum(API_KEY_CUT_OFF_REASONS)
          .describe('admin, or unused (the organization’s stale-key policy)'),
        unusedDays: z.number().int().nullable().describe('With reason `unused`: days without use there'),
      }),
    )
    .describe('Organizations whose admins cut this key off: it no longer works there, and only there'),
  blockedByTwoFactorPolicy: z
    .array(z.object({ orgId: uuid, orgName: z.string() }))
    .describe(
      'Organizations that require two-factor sign-in of members: the key is refused there (TWO_FACTOR_REQUIRED) until its creator enrols a second factor',
    ),
});

export const expiryInput = {
  expiresInDays: z.number().int().min(1).max(KEY_MAX_LIFETIME_DAYS).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
};

export const graceSchema = z.enum(ROTATION_GRACE_NAMES);

export const pageInput = {
  limit: z.number().int().min(1).max(100).default(50),
  offset: z.number().int().min(0).max(1_000_000).default(0),
};

export const okOut = z.object({ ok: z.literal(true) }).meta({ id: 'Ok', description: 'The action was done' });

/* ------------------------------------------------------------------------------------------ datasets and items */

export const datasetOut = z
  .object({
    id: uuid,
    orgId: uuid,
    projectId: uuid,
    name: z.string(),
    description: z.string().nullable(),
    itemCount: z.number().int().describe('How many items the dataset holds'),
    createdBy: uuid.describe('The user who created it (a key acts for its creator)'),
    createdAt: isoDate,
  })
  .meta({ id: 'Dataset', description: 'A named collection of items in a project' });

/** A cursor this API gave out: opaque, bounded here, fully checked by the service. */
export const cursorInput = z
  .string()
  .max(128)
  .optional()
  .describe('`nextCursor` of the previous page; omit for the first page');

export const externalIdSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = externalIdProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: EXTERNAL_ID_MESSAGES[problem] });
  })
  .describe(
    `Your own id for the item, unique in the dataset: 1–${EXTERNAL_ID_MAX_LENGTH} characters, no control characters`,
  );

export const itemOut = z
  .object({
    id: uuid,
    externalId: z.string(),
    kind: z.enum(ITEM_KINDS),
    name: z.string().nullable().describe('The uploaded file’s name; null for a text item'),
    mediaType: z.string(),
    size: z.number().int().describe('Bytes of the content (a text’s UTF-8 bytes)'),
    sha256: z.string().describe('SHA-256 of the content bytes, hex, computed by the server'),
    createdAt: isoDate,
  })
  .meta({ id: 'DatasetItem', description: 'An item of a dataset (its bytes are never part of a listing)' });

export const itemIdOut = z
  .object({ id: uuid, externalId: z.string() })
  .meta({ id: 'DatasetItemId', description: 'An item named by its ids only (`fields=externalId`)' });

export const batchResultsOut = z
  .object({
    results: z.array(
      z.object({
        externalId: z.string(),
        status: z
          .enum(['created', 'exists', 'rejected'])
          .describe(
            '`created`: stored now; `exists`: the same bytes were already stored under this externalId (a safe retry); `rejected`: other bytes are stored under it (see `error`)',
          ),
        itemId: uuid.optional().describe('The stored item (created or exists)'),
        error: z
          .object({ code: z.enum(['CONFLICT']), message: z.string() })
          .optional()
          .describe('Why the item was rejected'),
      }),
    ),
    created: z.number().int(),
    existing: z.number().int(),
    rejected: z.number().int(),
  })
  .meta({
    id: 'ItemBatchResults',
    description: 'One result per item, in request order, and how many of each status',
  });
