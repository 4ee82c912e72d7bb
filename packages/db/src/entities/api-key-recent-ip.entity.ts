import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * The addresses a key was last used from, newest kept (the flush trims each key to its most recent few). Written
 * with the usage counts, never per request. A plain key id, for the same reason as `usage_hourly`.
 */
export const ApiKeyRecentIp = defineEntity({
  name: 'ApiKeyRecentIp',
  tableName: 'api_key_recent_ips',
  properties: {
    apiKeyId: p.uuid().primary(),
    ip: p.string().length(64).primary(),
    lastSeenAt: p.datetime(),
  },
});
export type ApiKeyRecentIp = InferEntity<typeof ApiKeyRecentIp>;
