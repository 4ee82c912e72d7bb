import { INVITATION_STATUSES, ROLES } from '@crowdee/core';
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';
import { User } from './user.entity.ts';

/**
 * An invitation to join an organization, addressed to an email (not to an account: the answer to the inviter must
 * not reveal whether one exists). Nobody becomes a member until the verified holder of that address accepts.
 */
export const Invitation = defineEntity({
  name: 'Invitation',
  tableName: 'invitations',
  properties: {
    id: p.uuid().primary(),
    organization: () => p.manyToOne(Organization).deleteRule('cascade').index(),
    /** Normalised (core `normalizeEmail`). */
    email: p.string().length(254).index(),
    role: p.enum([...ROLES]),
    invitedBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    /** SHA-256 (hex) of the token mailed in the invitation link. */
    tokenHash: p.string().length(64).unique().hidden(),
    status: p.enum([...INVITATION_STATUSES]),
    expiresAt: p.datetime(),
    createdAt: p.datetime(),
    respondedAt: p.datetime().nullable(),
  },
});
export type Invitation = InferEntity<typeof Invitation>;
