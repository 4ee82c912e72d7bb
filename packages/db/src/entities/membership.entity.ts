import { ROLES } from '@crowdee/core';
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';
import { User } from './user.entity.ts';

export const Membership = defineEntity({
  name: 'Membership',
  tableName: 'memberships',
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    organization: () => p.manyToOne(Organization).deleteRule('cascade').index(),
    role: p.enum([...ROLES]),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  uniques: [{ properties: ['user', 'organization'], name: 'memberships_user_org_unique' }],
});
export type Membership = InferEntity<typeof Membership>;
