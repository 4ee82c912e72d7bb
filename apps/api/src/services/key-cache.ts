import type { Cidr, KeyRole, Permission, Role } from '@crowdee/core';

/** What verification needs about a key, loaded once and then served from memory. Never holds the raw key. */
export interface CachedKey {
  kind: 'key';
  id: string;
  hash: string;
  name: string;
  hint: string;
  role: KeyRole;
  scopeOrgIds: readonly string[] | null;
  /** Organizations whose admins cut this key off: it may not act there (see `keyAllowedInOrg`). */
  cutOffOrgIds: readonly string[];
  /** The permission subset it was restricted to (see `effectiveKeyPermissions`); null = its role's. */
  permissions: readonly Permission[] | null;
  /** Its allowlist as stored (normalised CIDR text) for `/me`, and compiled for the check on every request. */
  allowedIpList: readonly string[] | null;
  allowedIps: readonly Cidr[] | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  creator: { id: string; name: string; email: string };
  /** The creator's current role in each organization they belong to. */
  creatorRoles: ReadonlyMap<string, Role>;
  /** Names of those organizations, so `GET /api/v1/me` needs no query (not security-relevant: may lag a rename). */
  orgNames: ReadonlyMap<string, string>;
  /** Those of the creator's organizations that require two-factor sign-in. */
  twoFactorOrgIds: ReadonlySet<string>;
  /** Whether the creator has a second factor (a confirmed authenticator app or a passkey). */
  creatorHasSecondFactor: boolean;
  /** When this entry was loaded from the database (ms). */
  loadedAt: number;
  /** When last-use time and IP were last written (ms); writes are coalesced to once a minute per key. */
  usageWrittenAt: number;
  /** Per organization, when the key's use there was last written (ms); coalesced like `usageWrittenAt`. */
  orgUsageWrittenAt: Map<string, number>;
}

/**
 * What verification needs about a session token (a bearer token bound to a sign-in): the signed-in user and their
 * memberships (as `creator`/`creatorRoles`, so membership changes invalidate it exactly like the user's keys), and
 * the deadlines of the session it is bound to. Never holds the raw token.
 */
export interface CachedSessionToken {
  kind: 'session-token';
  id: string;
  hash: string;
  hint: string;
  audience: string;
  sessionId: string;
  expiresAt: Date;
  sessionExpiresAt: Date;
  /** The session's idle deadline as known at load; a later browser request may have moved it (then: reload). */
  sessionIdleDeadline: Date;
  creator: { id: string; name: string; email: string };
  creatorRoles: ReadonlyMap<string, Role>;
  orgNames: ReadonlyMap<string, string>;
  twoFactorOrgIds: ReadonlySet<string>;
  creatorHasSecondFactor: boolean;
  loadedAt: number;
  usageWrittenAt: number;
}

export type CachedCredential = CachedKey | CachedSessionToken;

export interface KeyCacheOptions {
  /**
   * How long an entry may be served without reloading. Changes made through any node invalidate entries at once
   * (through the invalidation channel); the TTL is the backstop should a message ever be lost.
   */
  ttlMs: number;
  /**
   * The TTL while the invalidation channel is down (changes on other nodes may go unheard): this bounds how long a
   * change made elsewhere can go unnoticed here.
   */
  degradedTtlMs: number;
  maxEntries: number;
}

/**
 * In-process cache of verified bearer credentials (API keys and session tokens), by hash. Revocation, rotation,
 * membership changes and session ends reach it through the invalidation bus (`publishInvalidation`): at once on
 * the node that made the change, within milliseconds on the others.
 */
export class KeyCache {
  private readonly byHash = new Map<string, CachedCredential>();
  private readonly hashById = new Map<string, string>();
  private readonly hashesByUser = new Map<string, Set<string>>();
  /** Bumped by every invalidation, so a load that raced an invalidation is not cached. */
  private generation = 0;
  private degraded = false;

  constructor(private readonly options: KeyCacheOptions) {
    if (options.degradedTtlMs > options.ttlMs) throw new Error('the degraded TTL must not exceed the TTL');
  }

  /** The TTL in force now: the short one while invalidations from other nodes may be missed. */
  get currentTtlMs(): number {
    return this.degraded ? this.options.degradedTtlMs : this.options.ttlMs;
  }

  setDegraded(degraded: boolean): void {
    this.degraded = degraded;
  }

  get size(): number {
    return this.byHash.size;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  get(hash: string, nowMs: number): CachedCredential | undefined {
    const entry = this.byHash.get(hash);
    if (!entry) return undefined;
    if (nowMs - entry.loadedAt >= this.currentTtlMs) {
      this.remove(hash);
      return undefined;
    }
    return entry;
  }

  /** Stores an entry loaded at `generation`, unless an invalidation happened since the load began. */
  set(entry: CachedCredential, loadedAtGeneration: number): void {
    if (loadedAtGeneration !== this.generation) return;
    this.remove(entry.hash);
    if (this.byHash.size >= this.options.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.byHash.keys().next();
      if (!oldest.done) this.remove(oldest.value);
    }
    this.byHash.set(entry.hash, entry);
    this.hashById.set(entry.id, entry.hash);
    addToIndex(this.hashesByUser, entry.creator.id, entry.hash);
  }

  invalidateKey(keyId: string): void {
    this.generation++;
    const hash = this.hashById.get(keyId);
    if (hash) this.remove(hash);
  }

  /**
   * Every credential of this user (their keys and session tokens): their memberships changed, so every effective
   * role did; or one of their sessions ended, taking its session tokens with it.
   */
  invalidateUser(userId: string): void {
    this.generation++;
    for (const hash of [...(this.hashesByUser.get(userId) ?? [])]) this.remove(hash);
  }

  clear(): void {
    this.generation++;
    this.byHash.clear();
    this.hashById.clear();
    this.hashesByUser.clear();
  }

  private remove(hash: string): void {
    const entry = this.byHash.get(hash);
    if (!entry) return;
    this.byHash.delete(hash);
    this.hashById.delete(entry.id);
    removeFromIndex(this.hashesByUser, entry.creator.id, hash);
  }
}

function addToIndex(index: Map<string, Set<string>>, group: string, hash: string): void {
  let hashes = index.get(group);
  if (!hashes) {
    hashes = new Set();
    index.set(group, hashes);
  }
  hashes.add(hash);
}

function removeFromIndex(index: Map<string, Set<string>>, group: string, hash: string): void {
  const hashes = index.get(group);
  hashes?.delete(hash);
  if (hashes && hashes.size === 0) index.delete(group);
}
