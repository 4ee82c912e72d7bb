import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    /** Normalised (see core `normalizeEmail`) before it reaches us, so the unique index means one account per mailbox. */
    email: p.string().length(254).unique(),
    name: p.string().length(200),
    /** argon2id PHC string. Hidden: never serialised into a response, whatever the caller does. */
    passwordHash: p.text().hidden().lazy(),
    /** When the account proved it owns `email` (null = not yet): needed to create organizations and join them. */
    emailVerifiedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});
export type User = InferEntity<typeof User>;
