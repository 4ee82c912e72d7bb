import {
  compileAllowlist,
  constantTimeEqual,
  DomainError,
  hashKey,
  ipAllowed,
  isKeyRole,
  isPermission,
  KEY_USAGE_WRITE_INTERVAL_MS,
  type KeyAccess,
  keyAccessUnderTwoFactorPolicy,
  keyStatus,
  parseKey,
} from '@crowdee/core';
import type { Orm } from '@crowdee/db';
import type { Logger } from '../logger.ts';
import {
  cachedTwoFactorStanding,
  type MembershipRow,
  membershipMaps,
  USER_HAS_SECOND_FACTOR_SQL,
  USER_MEMBERSHIPS_SQL,
} from './credential-memberships.ts';
import type { CachedKey, KeyCache } from './key-cache.ts';
import { sqlDate } from './sql.ts';

interface KeyRow {
  id: string;
  hash: string;
  name: string;
  hint: string;
  role: string;
  scope: string[] | null;
  permissions: string[] | null;
  allowed_ips: string[] | null;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  created_at: Date | string;
  last_used_at: Date | string | null;
  creator_id: string;
  creator_name: string;
  creator_email: string;
  roles: MembershipRow[];
  has_second_factor: boolean;
  cut_off: string[];
}

// One statement per cache miss: the key, its creator, the creator's memberships and the key's cut-offs.
const LOAD_KEY_SQL = `
  select k.id, k.hash, k.name, k.hint, k.role, array_to_json(k.scope_org_ids) as scope,
         array_to_json(k.permissions) as permissions, array_to_json(k.allowed_ips) as allowed_ips,
         k.expires_at, k.revoked_at, k.created_at, k.last_used_at,
         u.id as creator_id, u.name as creator_name, u.email as creator_email,
         ${USER_MEMBERSHIPS_SQL} as roles,
         ${USER_HAS_SECOND_FACTOR_SQL} as has_second_factor,
         coalesce((select json_agg(c.organization_id)
                     from api_key_org_access c
                    where c.api_key_id = k.id and c.cut_off_at is not null), '[]'::json) as cut_off
    from api_keys k
    join users u on u.id = k.creator_id
   where k.hash = ?`;

const unauthenticated = () => new DomainError('UNAUTHENTICATED');

/**
 * The one verification path for every transport: offline format check → lookup by hash (cached) → revoked /
 * expired → the creator's current memberships, from which `packages/core` computes effective roles per request.
 */
export class KeyVerifier {
  /**
   * Loads in flight, by hash, with the cache generation they started at. When an entry expires under load, every
   * concurrent request for that key used to send its own statement (one per open connection); they now share
   * one — but only a load that started in the current generation, so a request that began after a revocation
   * never receives an answer read before it.
   */
  private readonly loading = new Map<string, { generation: number; load: Promise<CachedKey | undefined> }>();

  constructor(
    private readonly orm: Orm,
    private readonly cache: KeyCache,
    private readonly clock: () => Date,
    private readonly logger: Logger,
  ) {}

  async verify(candidate: string, ip: string | null): Promise<CachedKey> {
    // Malformed keys (wrong prefix, length, alphabet, checksum) never reach the database.
    if (!parseKey(candidate).ok) throw unauthenticated();
    const hash = hashKey(candidate);
    const now = this.clock();
    const cached = this.cache.get(hash, now.getTime());
    let entry = cached?.kind === 'key' ? cached : undefined;
    if (!entry) {
      entry = await this.sharedLoad(hash, now);
      if (!entry) throw unauthenticated();
    }
    const status = keyStatus(entry, now);
    if (status === 'revoked') throw new DomainError('KEY_REVOKED');
    if (status === 'expired') throw new DomainError('KEY_EXPIRED');
    // Only now, with the key known good, may the address matter: a wrong key from anywhere still answers 401, so
    // this answer never helps anyone guess keys. A refused address is not recorded as the key's last use.
    if (!ipAllowed(ip, entry.allowedIps)) throw new DomainError('IP_NOT_ALLOWED');
    this.recordUse(entry, now, ip);
    return entry;
  }

  private sharedLoad(hash: string, now: Date): Promise<CachedKey | undefined> {
    const generation = this.cache.currentGeneration;
    const inFlight = this.loading.get(hash);
    if (inFlight && inFlight.generation === generation) return inFlight.load;
    const load = this.load(hash, now).finally(() => {
      if (this.loading.get(hash)?.load === load) this.loading.delete(hash);
    });
    this.loading.set(hash, { generation, load });
    return load;
  }

  private async load(hash: string, now: Date): Promise<CachedKey | undefined> {
    const generation = this.cache.currentGeneration;
    const rows = await this.orm.em.getConnection().execute<KeyRow[]>(LOAD_KEY_SQL, [hash]);
    const row = rows[0];
    // The lookup was by hash; comparing again in constant time costs nothing and keeps the rule simple to audit.
    if (!row || !constantTimeEqual(row.hash, hash) || !isKeyRole(row.role)) return undefined;
    const { creatorRoles, orgNames, twoFactorOrgIds } = membershipMaps(row.roles);
    const entry: CachedKey = {
      kind: 'key',
      id: row.id,
      hash: row.hash,
      name: row.name,
      hint: row.hint,
      role: row.role,
      scopeOrgIds: row.scope,
      cutOffOrgIds: row.cut_off,
      // A stored name no longer in the catalogue is dropped: the key gets narrower, never wider.
      permissions: row.permissions === null ? null : row.permissions.filter(isPermission),
      allowedIpList: row.allowed_ips,
      allowedIps: compileAllowlist(row.allowed_ips),
      expiresAt: sqlDate(row.expires_at),
      revokedAt: sqlDate(row.revoked_at),
      createdAt: sqlDate(row.created_at),
      creator: { id: row.creator_id, name: row.creator_name, email: row.creator_email },
      creatorRoles,
      orgNames,
      twoFactorOrgIds,
      creatorHasSecondFactor: row.has_second_factor === true,
      loadedAt: now.getTime(),
      usageWrittenAt: sqlDate(row.last_used_at)?.getTime() ?? 0,
      orgUsageWrittenAt: new Map(),
    };
    this.cache.set(entry, generation);
    return entry;
  }

  /**
   * What a verified key may do in organization `orgId`: packages/core's rule (scope, cut-offs by that org's admins,
   * then min(key role, creator's current role), then the org's two-factor policy against the creator's factors)
   * over the cached entry, which every revocation, cut-off, membership, policy and factor change invalidates. When the key may act there, its use there is recorded: that, not
   * the key's use everywhere, is what the organization's admins see.
   */
  accessIn(key: CachedKey, orgId: string, ip: string | null): KeyAccess {
    const access = keyAccessUnderTwoFactorPolicy(
      key,
      orgId,
      key.creatorRoles.get(orgId) ?? null,
      cachedTwoFactorStanding(key, orgId),
    );
    if (access.ok) this.recordOrgUse(key, orgId, this.clock(), ip);
    return access;
  }

  private recordOrgUse(entry: CachedKey, orgId: string, now: Date, ip: string | null): void {
    const written = entry.orgUsageWrittenAt.get(orgId) ?? 0;
    if (now.getTime() - written < KEY_USAGE_WRITE_INTERVAL_MS) return;
    entry.orgUsageWrittenAt.set(orgId, now.getTime());
    this.orm.em
      .getConnection()
      .execute(
        `insert into api_key_org_access (id, api_key_id, organization_id, last_used_at, last_used_ip)
              values (gen_random_uuid(), ?, ?, ?, ?)
         on conflict (api_key_id, organization_id)
           do update set last_used_at = excluded.last_used_at, last_used_ip = excluded.last_used_ip`,
        [entry.id, orgId, now, ip],
      )
      .catch((error: unknown) =>
        this.logger.warn(
          { err: error, keyId: entry.id, orgId },
          'could not record key use in an organization',
        ),
      );
  }

  /** Last use (time and IP) is written at most once a minute per key: never a write per request. */
  private recordUse(entry: CachedKey, now: Date, ip: string | null): void {
    if (now.getTime() - entry.usageWrittenAt < KEY_USAGE_WRITE_INTERVAL_MS) return;
    entry.usageWrittenAt = now.getTime();
    this.orm.em
      .getConnection()
      .execute('update api_keys set last_used_at = ?, last_used_ip = ? where id = ?', [now, ip, entry.id])
      .catch((error: unknown) =>
        this.logger.warn({ err: error, keyId: entry.id }, 'could not record key use'),
      );
  }
}
