/**
 * Propagation trials against a running cluster: a change made through node A, then every other node polled
 * until it refuses. Shared by the cluster test (which asserts that every trial converged) and `pnpm bench`
 * (which reports the distribution). Set-up rows (people, memberships, keys) go straight into the database; the
 * change under test always goes through node A's API.
 */
import { randomUUID } from 'node:crypto';
import { generateKey, type KeyRole, type Role } from '@crowdee/core';
import { ApiKey, Membership, type Orm, User } from '@crowdee/db';
import type { Browser } from './http-client.ts';

export interface Seeded {
  userId: string;
  keyId: string;
  key: string;
}

/** A member of `orgId` at `role` with one unscoped key (no password: they never sign in). */
export async function seedMemberWithKey(
  orm: Orm,
  orgId: string,
  role: Role,
  keyRole: KeyRole = 'member',
): Promise<Seeded> {
  const em = orm.em.fork();
  const now = new Date();
  const user = em.create(User, {
    id: randomUUID(),
    email: `seed-${randomUUID()}@example.test`,
    name: 'Seeded member',
    passwordHash: '!',
    createdAt: now,
  });
  em.create(Membership, {
    id: randomUUID(),
    user,
    organization: orgId,
    role,
    createdAt: now,
    updatedAt: now,
  });
  const keyId = await seedKey(orm, user.id, keyRole, em);
  return { userId: user.id, ...keyId };
}

export async function seedKey(
  orm: Orm,
  userId: string,
  role: KeyRole,
  inEm = orm.em.fork(),
): Promise<{ keyId: string; key: string }> {
  const { key, hash, hint } = generateKey();
  const row = inEm.create(ApiKey, {
    id: randomUUID(),
    name: 'trial key',
    hash,
    hint,
    role,
    creator: userId,
    scopeOrgIds: null,
    createdAt: new Date(),
  });
  await inEm.flush();
  return { keyId: row.id, key };
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export async function status(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

/**
 * Polls until `done(status)` (back to back: the delay measured is the propagation, not our sleep), or until the
 * deadline — generous, and only there to end a broken run. Returns ms from `since` to the answer that showed it.
 */
export async function pollUntil(
  request: () => Promise<number>,
  done: (status: number) => boolean,
  since: number,
  deadlineMs: number,
): Promise<number | null> {
  while (performance.now() - since < deadlineMs) {
    if (done(await request())) return performance.now() - since;
  }
  return null;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface TrialResult {
  /** One per (trial, other node) that converged: ms from A's answer to the first refusal seen there. */
  delaysMs: number[];
  trials: number;
  /** (trial, node) pairs that never converged before the deadline. */
  stuck: number;
  /** Converged pairs slower than 1 s (reported, not asserted: a loaded machine can stall any process). */
  overOneSecond: number;
}

export function summary(name: string, r: TrialResult): string {
  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  return `${name}: ${r.trials} trials, converged ${r.delaysMs.length}, stuck ${r.stuck}, over 1 s ${r.overOneSecond}; p50 ${fmt(percentile(r.delaysMs, 50))}, p99 ${fmt(percentile(r.delaysMs, 99))}, max ${fmt(Math.max(...r.delaysMs))}`;
}

export interface TrialSetup {
  orm: Orm;
  /** Node A, where changes are made. */
  a: string;
  /** The nodes that must follow. */
  others: string[];
  orgId: string;
  /** The organization's owner, signed in on node A. */
  owner: Browser;
  trials: number;
  deadlineMs: number;
}

async function converge(
  setup: TrialSetup,
  since: number,
  probe: (node: string) => Promise<number>,
  refused: (status: number) => boolean,
  result: TrialResult,
): Promise<void> {
  const delays = await Promise.all(
    setup.others.map((node) => pollUntil(() => probe(node), refused, since, setup.deadlineMs)),
  );
  for (const d of delays) {
    if (d === null) result.stuck++;
    else {
      result.delaysMs.push(d);
      if (d > 1_000) result.overOneSecond++;
    }
  }
}

function newResult(trials: number): TrialResult {
  return { delaysMs: [], trials, stuck: 0, overOneSecond: 0 };
}

/** Warm every other node's cache with the key, then check it answers `expected` there. */
async function warm(setup: TrialSetup, probe: (node: string) => Promise<number>, expected: number) {
  for (const node of setup.others) {
    const s = await probe(node);
    if (s !== expected) throw new Error(`warm-up on ${node} answered ${s}, expected ${expected}`);
  }
}

/**
 * A member's key revoked through node A by an org admin (in the settings app) is refused in that organization by
 * every other node. An admin's revoke of someone else's key is a cut-off from their organization (403
 * KEY_CUT_OFF), carried to the other nodes by the same invalidation as an owner's revocation.
 */
export async function revocationTrials(setup: TrialSetup): Promise<TrialResult> {
  const result = newResult(setup.trials);
  for (let i = 0; i < setup.trials; i++) {
    const member = await seedMemberWithKey(setup.orm, setup.orgId, 'member');
    const probe = (node: string) =>
      status(`${node}/api/v1/orgs/${setup.orgId}/projects`, { headers: bearer(member.key) });
    await warm(setup, probe, 200);
    await setup.owner.trpc.keys.revoke.mutate({ id: member.keyId, orgId: setup.orgId });
    const since = performance.now();
    await converge(setup, since, probe, (s) => s === 403, result);
  }
  return result;
}

/** A creator demoted (admin → viewer) through node A has their key's writes refused by every other node. */
export async function demotionTrials(setup: TrialSetup): Promise<TrialResult> {
  const result = newResult(setup.trials);
  const member = await seedMemberWithKey(setup.orm, setup.orgId, 'admin');
  const write = (node: string) =>
    status(`${node}/api/v1/orgs/${setup.orgId}/projects`, {
      method: 'POST',
      headers: { ...bearer(member.key), 'content-type': 'application/json' },
      body: JSON.stringify({ name: `trial ${randomUUID()}` }),
    });
  const role = (to: Role) =>
    setup.owner.trpc.members.updateRole.mutate({ orgId: setup.orgId, userId: member.userId, role: to });
  for (let i = 0; i < setup.trials; i++) {
    if (i > 0) {
      // Promote back and wait until every node allows writes again (its cache then holds the admin role).
      await role('admin');
      const back = newResult(1);
      await converge(setup, performance.now(), write, (s) => s === 201, back);
      if (back.stuck > 0) throw new Error('a node never saw the promotion');
    } else {
      await warm(setup, write, 201);
    }
    await role('viewer');
    const since = performance.now();
    await converge(setup, since, write, (s) => s === 403, result);
  }
  return result;
}

/** A member removed through node A: their key stops acting on the organization on every other node. */
export async function removalTrials(setup: TrialSetup): Promise<TrialResult> {
  const result = newResult(setup.trials);
  for (let i = 0; i < setup.trials; i++) {
    const member = await seedMemberWithKey(setup.orm, setup.orgId, 'member');
    const read = (node: string) =>
      status(`${node}/api/v1/orgs/${setup.orgId}/projects`, { headers: bearer(member.key) });
    await warm(setup, read, 200);
    await setup.owner.trpc.members.remove.mutate({ orgId: setup.orgId, userId: member.userId });
    const since = performance.now();
    // Not a member any more: the organization answers like one that does not exist.
    await converge(setup, since, read, (s) => s === 404, result);
  }
  return result;
}
