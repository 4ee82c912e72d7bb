import { isKeyStaleUnderPolicy, staleKeyRemedy } from '@crowdee/core';
import { Organization } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { staleKeysMail } from '../mail/messages.ts';
import { type Actor, recordAudit } from './audit.service.ts';

/** The stale-key policy acts on its own: audit events name Crowdee, not a person. */
const SYSTEM: Actor = { type: 'system', userId: null, keyId: null, ip: null, userAgent: null };

/**
 * Two sweepers (one per API node) never work on one organization at once: each takes this transaction-scoped
 * advisory lock (namespace, organization) first and skips the organization if another holds it. A sweeper that
 * comes after the lock's holder committed finds the keys already gone (revoked or cut off) and does nothing, so
 * every stale key is revoked, audited and mailed about exactly once whatever the number of nodes.
 */
const LOCK_NAMESPACE = 'crowdee:stale-key-sweep';

/** Active keys that can act on the organization and are not cut off there, with their use there. */
const CANDIDATES_SQL = `
  select k.id, k.name, k.hint, k.scope_org_ids, k.created_at, k.revoked_at, k.expires_at,
         u.id as creator_id, u.email as creator_email, u.name as creator_name,
         a.last_used_at, m.created_at as member_since
    from api_keys k
    join memberships m on m.user_id = k.creator_id and m.organization_id = ?
    join users u on u.id = k.creator_id
    left join api_key_org_access a on a.api_key_id = k.id and a.organization_id = ?
   where (k.revoked_at is null or k.revoked_at > ?)
     and (k.expires_at is null or k.expires_at > ?)
     and (k.scope_org_ids is null or ?::uuid = any(k.scope_org_ids))
     and a.cut_off_at is null
   order by k.created_at, k.id
     for update of k`;

interface CandidateRow {
  id: string;
  name: string;
  hint: string;
  scope_org_ids: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
  expires_at: Date | null;
  creator_id: string;
  creator_email: string;
  creator_name: string;
  last_used_at: Date | null;
  member_since: Date;
}

const CUT_OFF_SQL = `
  insert into api_key_org_access (id, api_key_id, organization_id, cut_off_at, cut_off_reason, cut_off_unused_days)
       values (gen_random_uuid(), ?, ?, ?, 'unused', ?)
  on conflict (api_key_id, organization_id)
    do update set cut_off_at = excluded.cut_off_at, cut_off_reason = excluded.cut_off_reason,
                  cut_off_unused_days = excluded.cut_off_unused_days
          where api_key_org_access.cut_off_at is null`;

export interface StaleKeyAction {
  keyId: string;
  orgId: string;
  action: 'revoked' | 'cut-off';
}

export interface SweepResult {
  /** Organizations with the policy on that this sweeper worked through. */
  organizations: number;
  /** Organizations skipped because another sweeper held them. */
  skipped: number;
  actions: StaleKeyAction[];
}

interface OrgOutcome {
  org: { id: string; name: string; days: number };
  taken: (CandidateRow & { action: StaleKeyAction['action'] })[];
}

/** One organization under its lock, in one transaction: null when another sweeper holds it. */
async function sweepOrganization(em: EntityManager, orgId: string, now: Date): Promise<OrgOutcome | null> {
  return em.transactional(async (tem) => {
    // tem.execute, never tem.getConnection().execute: only the former runs inside this transaction, and the
    // advisory lock and row locks are worth nothing outside it.
    const [lock] = await tem.execute<{ locked: boolean }[]>(
      'select pg_try_advisory_xact_lock(hashtext(?), hashtext(?)) as locked',
      [LOCK_NAMESPACE, orgId],
    );
    if (!lock?.locked) return null;
    // The policy as it is now, under the lock: it may have been switched off since the list was read.
    const org = await tem.findOne(Organization, { id: orgId }, { refresh: true });
    const days = org?.keyPolicyRevokeUnusedDays ?? null;
    if (!org || days === null) return { org: { id: orgId, name: '', days: 0 }, taken: [] };
    const rows = await tem.execute<CandidateRow[]>(CANDIDATES_SQL, [orgId, orgId, now, now, orgId]);
    const taken: OrgOutcome['taken'] = [];
    for (const row of rows) {
      const stale = isKeyStaleUnderPolicy(
        {
          createdAt: new Date(row.created_at),
          lastUsedInOrgAt: row.last_used_at ? new Date(row.last_used_at) : null,
          reachableSince: new Date(row.member_since),
          revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
          expiresAt: row.expires_at ? new Date(row.expires_at) : null,
          cutOffAt: null,
        },
        { revokeUnusedAfterDays: days },
        now,
      );
      if (!stale) continue;
      const metadata = {
        name: row.name,
        hint: row.hint,
        creatorId: row.creator_id,
        reason: 'unused',
        unusedDays: days,
      };
      if (staleKeyRemedy(row.scope_org_ids, orgId) === 'revoke') {
        await tem.execute(
          `update api_keys set revoked_at = ?, revoked_reason = 'unused', revoked_by = null, revoked_unused_days = ?
            where id = ?`,
          [now, days, row.id],
        );
        recordAudit(tem, SYSTEM, {
          action: 'key.revoked',
          organizationId: orgId,
          target: { type: 'api_key', id: row.id },
          metadata: { ...metadata, via: 'unused' },
          at: now,
        });
        taken.push({ ...row, action: 'revoked' });
      } else {
        await tem.execute(CUT_OFF_SQL, [row.id, orgId, now, days]);
        recordAudit(tem, SYSTEM, {
          action: 'key.cut_off',
          organizationId: orgId,
          target: { type: 'api_key', id: row.id },
          metadata,
          at: now,
        });
        taken.push({ ...row, action: 'cut-off' });
      }
    }
    return { org: { id: orgId, name: org.name, days }, taken };
  });
}

/**
 * Enforces every organization's "revoke keys unused for N days" once, as of `deps.clock()`. Per organization: one
 * transaction under its advisory lock; after its commit the change is published to every node (the keys stop at
 * once everywhere) and each owner gets one mail listing their keys taken.
 */
export async function sweepStaleKeys(deps: AppDeps): Promise<SweepResult> {
  const now = deps.clock();
  const em = deps.orm.em.fork();
  const orgs = await em.find(
    Organization,
    { keyPolicyRevokeUnusedDays: { $ne: null } },
    { fields: ['id'], orderBy: { id: 'asc' } },
  );
  const result: SweepResult = { organizations: 0, skipped: 0, actions: [] };
  for (const { id } of orgs) {
    const outcome = await sweepOrganization(em.fork(), id, now);
    if (!outcome) {
      result.skipped++;
      continue;
    }
    result.organizations++;
    if (outcome.taken.length === 0) continue;
    // One message per cause, in slices the channel carries.
    for (const action of ['revoked', 'cut-off'] as const) {
      const ids = outcome.taken.filter((k) => k.action === action).map((k) => k.id);
      for (let i = 0; i < ids.length; i += 50) {
        await publishInvalidation(deps, em, {
          cause: action === 'revoked' ? 'key.revoked' : 'key.cut_off',
          targets: ids.slice(i, i + 50).map((keyId) => ({ kind: 'key', keyId })),
        });
      }
    }
    const byOwner = new Map<string, OrgOutcome['taken']>();
    for (const k of outcome.taken) byOwner.set(k.creator_email, [...(byOwner.get(k.creator_email) ?? []), k]);
    for (const [email, keys] of byOwner) {
      const first = keys[0];
      if (!first) continue;
      deps.mailer.enqueue(
        staleKeysMail(
          email,
          first.creator_name,
          outcome.org.name,
          outcome.org.days,
          keys,
          `${deps.appUrl()}/settings/api-keys`,
        ),
      );
    }
    for (const k of outcome.taken) result.actions.push({ keyId: k.id, orgId: id, action: k.action });
  }
  if (result.actions.length > 0)
    deps.logger.info(
      {
        revoked: result.actions.filter((a) => a.action === 'revoked').length,
        cutOff: result.actions.filter((a) => a.action === 'cut-off').length,
      },
      'stale-key sweep: keys unused past their organization’s policy taken away',
    );
  return result;
}

/**
 * Runs the sweep every `intervalMs` in this process (first after at most a minute, so a node that restarts often
 * still sweeps). Runs never overlap on one node; across nodes the advisory locks keep them apart. A failed run is
 * logged and the next one tries again.
 */
export function startStaleKeySweeper(deps: AppDeps, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const run = () => {
    if (running || stopped) return;
    running = sweepStaleKeys(deps)
      .then(() => undefined)
      .catch((error: unknown) =>
        deps.logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'stale-key sweep failed',
        ),
      )
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(run, Math.min(intervalMs, 60_000));
  const every = setInterval(run, intervalMs);
  first.unref();
  every.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
