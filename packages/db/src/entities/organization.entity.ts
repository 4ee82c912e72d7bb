import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const Organization = defineEntity({
  name: 'Organization',
  tableName: 'organizations',
  properties: {
    id: p.uuid().primary(),
    name: p.string().length(100),
    /** Key policy: every key that can act on this organization must expire ... */
    keyPolicyRequireExpiry: p.boolean().default(false),
    /** ... within this many days (null = no maximum). */
    keyPolicyMaxLifetimeDays: p.integer().nullable(),
    /** ... and keys unused here for this many days are revoked or cut off by the stale-key sweep (null = never). */
    keyPolicyRevokeUnusedDays: p.integer().nullable(),
    /**
     * Owner-set policy "Members must use two-factor sign-in": members without a second factor cannot act in this
     * organization, and keys they created stop acting here, until they enrol one.
     */
    requireTwoFactor: p.boolean().default(false),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type Organization = InferEntity<typeof Organization>;
