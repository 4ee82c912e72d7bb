import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * The stored answer to a POST sent with an `Idempotency-Key`, kept in PostgreSQL so every API node sees it.
 * `principal` names the credential that sent it (e.g. `key:<id>`): the same key string from another credential
 * is another record, so a replay never shows one caller's answer to another. `status` is null while the first
 * request is still running (a concurrent duplicate then gets 409).
 */
export const IdempotencyRecord = defineEntity({
  name: 'IdempotencyRecord',
  tableName: 'idempotency_records',
  properties: {
    id: p.uuid().primary(),
    principal: p.string().length(100),
    key: p.string().length(255),
    method: p.string().length(10),
    path: p.string().length(2048),
    /** SHA-256 (hex) of the request body as received; null until the body has been read. */
    fingerprint: p.string().length(64).nullable(),
    status: p.integer().nullable(),
    contentType: p.string().length(255).nullable(),
    responseBody: p.text().nullable(),
    /** How long an in-flight first request holds the key: if its node died mid-request, a retry may take over after. */
    lockedUntil: p.datetime(),
    createdAt: p.datetime(),
    expiresAt: p.datetime().index(),
  },
  uniques: [{ properties: ['principal', 'key'], name: 'idempotency_records_principal_key_unique' }],
});
export type IdempotencyRecord = InferEntity<typeof IdempotencyRecord>;
