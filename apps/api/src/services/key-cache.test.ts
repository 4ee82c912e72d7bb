import { describe, expect, it } from 'vitest';
import { type CachedKey, KeyCache } from './key-cache.ts';

function entry(id: string, creatorId: string, loadedAt: number): CachedKey {
  return {
    kind: 'key',
    id,
    hash: `hash-${id}`,
    name: id,
    hint: 'cdk_abcd…wxyz',
    role: 'member',
    scopeOrgIds: null,
    cutOffOrgIds: [],
    permissions: null,
    allowedIpList: null,
    allowedIps: null,
    expiresAt: null,
    revokedAt: null,
    createdAt: new Date(0),
    creator: { id: creatorId, name: 'c', email: 'c@example.test' },
    creatorRoles: new Map(),
    orgNames: new Map(),
    twoFactorOrgIds: new Set(),
    creatorHasSecondFactor: false,
    loadedAt,
    usageWrittenAt: 0,
    orgUsageWrittenAt: new Map(),
  };
}

describe('KeyCache TTLs', () => {
  const options = { ttlMs: 30_000, degradedTtlMs: 1_000, maxEntries: 10 };

  it('serves an entry for the normal TTL while the channel is connected', () => {
    const cache = new KeyCache(options);
    cache.set(entry('k', 'u', 0), cache.currentGeneration);
    expect(cache.get('hash-k', 29_999)?.id).toBe('k');
    expect(cache.get('hash-k', 30_000)).toBeUndefined();
  });

  it('while degraded, no entry is served past the short TTL — including entries loaded before', () => {
    const cache = new KeyCache(options);
    cache.set(entry('old', 'u', 0), cache.currentGeneration);
    cache.setDegraded(true);
    expect(cache.currentTtlMs).toBe(1_000);
    expect(cache.get('hash-old', 1_000)).toBeUndefined();
    cache.set(entry('new', 'u', 5_000), cache.currentGeneration);
    expect(cache.get('hash-new', 5_999)?.id).toBe('new');
    expect(cache.get('hash-new', 6_000)).toBeUndefined();
    cache.setDegraded(false);
    expect(cache.currentTtlMs).toBe(30_000);
  });

  it('refuses a degraded TTL longer than the TTL', () => {
    expect(() => new KeyCache({ ttlMs: 1_000, degradedTtlMs: 2_000, maxEntries: 1 })).toThrow();
  });

  it('does not cache a load that raced an invalidation', () => {
    const cache = new KeyCache(options);
    const generation = cache.currentGeneration;
    cache.invalidateUser('u');
    cache.set(entry('k', 'u', 0), generation);
    expect(cache.size).toBe(0);
  });
});
