import type { KeyRole, Role } from '@crowdee/core';

/** What verification needs about a key, loaded once and then served from memory. Never holds the raw key. */
export interface CachedKey {
  id: string;
  hash: string;
  name: string;
  hint: string;
  role: KeyRole;
  scopeOrgIds: readonly string[] | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  creator: { id: string; name: string; email: string };
  /** The creator's current role in each organization they belong to. */
  creatorRoles: ReadonlyMap<string, Role>;
  /** Names of those organizations, so `GET /api/v1/me` needs no query (not security-relevant: may lag a rename). */
  orgNames: ReadonlyMap<string, string>;
  /** When this entry was loaded from the database (ms). */
  loadedAt: number;
  /** When last-use time and IP were last written (ms); writes are coalesced to once a minute per key. */
  usageWrittenAt: number;
}

export interface KeyCacheOptions {
  /**
   * How long an entry may be served without reloading. Changes made through this process invalidate entries at once;
   * the TTL bounds how long a change made by *another* process can go unnoticed here.
   */
  ttlMs: number;
  maxEntries: number;
}

/**
 * In-process cache of verified keys, by hash. Revocation, rotation and membership changes call `invalidateKey` /
 * `invalidateUser` in the same request that makes the change, so the very next request on this node sees it.
 */
export class KeyCache {
  private readonly byHash = new Map<string, CachedKey>();
  private readonly hashById = new Map<string, string>();
  private readonly hashesByUser = new Map<string, Set<string>>();
  /** Bumped by every invalidation, so a load that raced an invalidation is not cached. */
  private generation = 0;

  constructor(private readonly options: KeyCacheOptions) {}

  get size(): number {
    return this.byHash.size;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  get(hash: string, nowMs: number): CachedKey | undefined {
    const entry = this.byHash.get(hash);
    if (!entry) return undefined;
    if (nowMs - entry.loadedAt >= this.options.ttlMs) {
      this.remove(hash);
      return undefined;
    }
    return entry;
  }

  /** Stores an entry loaded at `generation`, unless an invalidation happened since the load began. */
  set(entry: CachedKey, loadedAtGeneration: number): void {
    if (loadedAtGeneration !== this.generation) return;
    this.remove(entry.hash);
    if (this.byHash.size >= this.options.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.byHash.keys().next();
      if (!oldest.done) this.remove(oldest.value);
    }
    this.byHash.set(entry.hash, entry);
    this.hashById.set(entry.id, entry.hash);
    let hashes = this.hashesByUser.get(entry.creator.id);
    if (!hashes) {
      hashes = new Set();
      this.hashesByUser.set(entry.creator.id, hashes);
    }
    hashes.add(entry.hash);
  }

  invalidateKey(keyId: string): void {
    this.generation++;
    const hash = this.hashById.get(keyId);
    if (hash) this.remove(hash);
  }

  /** Every key created by this user: their memberships changed, so every key's effective roles did. */
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
    const hashes = this.hashesByUser.get(entry.creator.id);
    hashes?.delete(hash);
    if (hashes && hashes.size === 0) this.hashesByUser.delete(entry.creator.id);
  }
}
