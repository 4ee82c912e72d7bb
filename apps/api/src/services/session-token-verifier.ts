import {
  constantTimeEqual,
  DomainError,
  hashKey,
  KEY_USAGE_WRITE_INTERVAL_MS,
  parseSessionBoundToken,
  type SessionTimeouts,
  sessionTokenState,
} from '@crowdee/core';
import type { Orm } from '@crowdee/db';
import type { Logger } from '../logger.ts';
import {
  type MembershipRow,
  membershipMaps,
  USER_HAS_SECOND_FACTOR_SQL,
  USER_MEMBERSHIPS_SQL,
} from './credential-memberships.ts';
import type { CachedSessionToken, KeyCache } from './key-cache.ts';
import { sqlDate } from './sql.ts';

interface TokenRow {
  id: string;
  hash: string;
  hint: string;
  audience: string;
  session_id: string;
  expires_at: Date | string;
  last_used_at: Date | string | null;
  session_expires_at: Date | string;
  session_last_seen_at: Date | string;
  user_id: string;
  user_name: string;
  user_email: string;
  roles: MembershipRow[];
  has_second_factor: boolean;
}

// One statement per cache miss: the token, the session it is bound to, its user and the user's memberships.
const LOAD_TOKEN_SQL = `
  select t.id, t.hash, t.hint, t.audience, t.session_id, t.expires_at, t.last_used_at,
         s.expires_at as session_expires_at, s.last_seen_at as session_last_seen_at,
         u.id as user_id, u.name as user_name, u.email as user_email,
         ${USER_MEMBERSHIPS_SQL} as roles,
         ${USER_HAS_SECOND_FACTOR_SQL} as has_second_factor
    from session_tokens t
    join sessions s on s.id = t.session_id
    join users u on u.id = t.user_id
   where t.hash = ?`;

const unauthenticated = () => new DomainError('UNAUTHENTICATED');

/**
 * Verification of session tokens, on the same path and cache as API keys: offline format check → lookup by hash
 * (cached: no statement on a hit) → the token's own expiry and its session's (absolute and idle) → the user's
 * current memberships, which every membership change invalidates. A session's end invalidates its tokens.
 */
export class SessionTokenVerifier {
  constructor(
    private readonly orm: Orm,
    private readonly cache: KeyCache,
    private readonly clock: () => Date,
    private readonly logger: Logger,
    private readonly timeouts: SessionTimeouts,
  ) {}

  async verify(candidate: string): Promise<CachedSessionToken> {
    if (!parseSessionBoundToken(candidate).ok) throw unauthenticated();
    const hash = hashKey(candidate);
    const now = this.clock();
    const cached = this.cache.get(hash, now.getTime());
    let entry = cached?.kind === 'session-token' ? cached : undefined;
    // The session's idle deadline may have moved since the load (the user kept using the browser): look again.
    if (entry && sessionTokenState(entry, now) === 'session-ended') entry = undefined;
    entry ??= await this.load(hash, now);
    if (!entry) throw unauthenticated();
    const state = sessionTokenState(entry, now);
    if (state === 'session-ended') throw unauthenticated();
    if (state === 'expired') throw new DomainError('SESSION_TOKEN_EXPIRED');
    this.recordUse(entry, now);
    return entry;
  }

  private async load(hash: string, now: Date): Promise<CachedSessionToken | undefined> {
    const generation = this.cache.currentGeneration;
    const rows = await this.orm.em.getConnection().execute<TokenRow[]>(LOAD_TOKEN_SQL, [hash]);
    const row = rows[0];
    if (!row || !constantTimeEqual(row.hash, hash)) return undefined;
    const { creatorRoles, orgNames, twoFactorOrgIds } = membershipMaps(row.roles);
    const entry: CachedSessionToken = {
      kind: 'session-token',
      id: row.id,
      hash: row.hash,
      hint: row.hint,
      audience: row.audience,
      sessionId: row.session_id,
      expiresAt: sqlDate(row.expires_at),
      sessionExpiresAt: sqlDate(row.session_expires_at),
      sessionIdleDeadline: new Date(sqlDate(row.session_last_seen_at).getTime() + this.timeouts.idleMs),
      creator: { id: row.user_id, name: row.user_name, email: row.user_email },
      creatorRoles,
      orgNames,
      twoFactorOrgIds,
      creatorHasSecondFactor: row.has_second_factor === true,
      loadedAt: now.getTime(),
      usageWrittenAt: sqlDate(row.last_used_at)?.getTime() ?? 0,
    };
    this.cache.set(entry, generation);
    return entry;
  }

  /** Last use is written at most once a minute per token: never a write per request. */
  private recordUse(entry: CachedSessionToken, now: Date): void {
    if (now.getTime() - entry.usageWrittenAt < KEY_USAGE_WRITE_INTERVAL_MS) return;
    entry.usageWrittenAt = now.getTime();
    this.orm.em
      .getConnection()
      .execute('update session_tokens set last_used_at = ? where id = ?', [now, entry.id])
      .catch((error: unknown) =>
        this.logger.warn({ err: error, tokenId: entry.id }, 'could not record session token use'),
      );
  }
}
