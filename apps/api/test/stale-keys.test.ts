/**
 * "Revoke keys unused for N days", enforced by the sweep on two API nodes sharing one database, with injected clocks:
 * exactly the keys past the policy are taken (revoked when the organization is all they can reach, else cut off
 * there only), never a key used here within N days, never another organization's keys; once, whatever the number
 * of sweepers and re-runs; audited as the system; one mail per owner; refused at once on the other node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaleKeySweeper, sweepStaleKeys } from '../src/services/stale-keys.service.ts';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode } from './helpers/http-client.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const DAY = 86_400_000;
const N = 30;
let node1: TestApp;
let node2: TestApp;
let cast: Record<'Ada' | 'Bob', Person>;

function advance(ms: number): void {
  node1.clock.advance(ms);
  node2.clock.advance(ms);
}

async function lastUsedIn(keyId: string, orgId: string): Promise<string | null> {
  const rows = await node1.orm.em
    .fork()
    .getConnection()
    .execute<{ last_used_at: string | null }[]>(
      'select last_used_at::text from api_key_org_access where api_key_id = ? and organization_id = ?',
      [keyId, orgId],
    );
  return rows[0]?.last_used_at ?? null;
}

/** Key use in an organization is written after the answer (coalesced): wait until it is there. */
async function useIn(app: TestApp, key: { key: string; id: string }, orgId: string): Promise<void> {
  const before = await lastUsedIn(key.id, orgId);
  expect((await rest(app.url, key.key, 'GET', `/orgs/${orgId}/projects`)).status).toBe(200);
  while ((await lastUsedIn(key.id, orgId)) === before) await new Promise((r) => setTimeout(r, 10));
}

function staleMails(to: string) {
  return [...node1.mailbox.all, ...node2.mailbox.all].filter(
    (m) => m.to === to && /unused for/.test(m.subject),
  );
}

async function systemEvents(orgId: string) {
  return node1.orm.em
    .fork()
    .getConnection()
    .execute<{ action: string; target_id: string; metadata: Record<string, unknown> }[]>(
      `select action, target_id, metadata from audit_events
        where organization_id = ? and actor_type = 'system' order by created_at, id`,
      [orgId],
    );
}

beforeAll(async () => {
  // Sessions that outlive the months the clock moves through.
  const config = { sessions: { absoluteMs: 400 * DAY, idleMs: 400 * DAY } };
  node1 = await startTestApp({ config, invalidation: { channel: 'postgres' } });
  node2 = await startTestApp({
    config,
    database: { url: node1.dbUrl },
    invalidation: { channel: 'postgres' },
  });
  cast = (await people(node1, ['Ada', 'Bob'])) as typeof cast;
});
afterAll(async () => {
  await node2?.close();
  await node1?.close();
});

describe('stale-key policy', () => {
  it('is off by default, takes 7 to 365 days, and only admins set it', async () => {
    const { Ada, Bob } = cast;
    const org = await orgWith(Ada, 'Policy bounds', [{ person: Bob, role: 'member' }]);
    const current = await Ada.browser.trpc.orgs.list.query();
    expect(current.find((o) => o.id === org.id)?.keyPolicy.revokeUnusedAfterDays).toBeNull();
    const set = (days: number | null, as = Ada) =>
      as.browser.trpc.orgs.setKeyPolicy.mutate({
        orgId: org.id,
        requireExpiry: false,
        maxLifetimeDays: null,
        revokeUnusedAfterDays: days,
      });
    expect(await errorCode(set(6))).toBe('VALIDATION_FAILED');
    expect(await errorCode(set(366))).toBe('VALIDATION_FAILED');
    expect(await errorCode(set(7.5))).toBe('VALIDATION_FAILED');
    expect(await errorCode(set(30, Bob))).toBe('FORBIDDEN');
    expect((await set(7)).keyPolicy.revokeUnusedAfterDays).toBe(7);
    // Saving the other fields without this one (an older client) leaves it as it was.
    const kept = await Ada.browser.trpc.orgs.setKeyPolicy.mutate({
      orgId: org.id,
      requireExpiry: true,
      maxLifetimeDays: null,
    });
    expect(kept.keyPolicy).toEqual({ requireExpiry: true, maxLifetimeDays: null, revokeUnusedAfterDays: 7 });
    expect((await set(null)).keyPolicy.revokeUnusedAfterDays).toBeNull();
  });

  it('takes exactly the keys past the policy, once, on every node, with one mail per owner', async () => {
    const { Ada, Bob } = cast;
    const a = await orgWith(Ada, 'Policy org', [{ person: Bob, role: 'member' }]);
    const b = await orgWith(Ada, 'Ada elsewhere');
    const c = await orgWith(Bob, 'Bob elsewhere');
    // Day 0.
    const adaAnywhere = await keyFor(Ada, a.id, { name: 'anywhere', role: 'member' });
    const adaOnlyA = await keyFor(Ada, a.id, { name: 'only-a', role: 'member', orgIds: [a.id] });
    const adaUsedA = await keyFor(Ada, a.id, { name: 'used-a', role: 'member', orgIds: [a.id] });
    const bobOnlyC = await keyFor(Bob, c.id, { name: 'bob-c', role: 'member', orgIds: [c.id] });
    await Ada.browser.trpc.orgs.setKeyPolicy.mutate({
      orgId: a.id,
      requireExpiry: false,
      maxLifetimeDays: null,
      revokeUnusedAfterDays: N,
    });
    advance(5 * DAY);
    const bobFresh = await keyFor(Bob, a.id, { name: 'bob-fresh', role: 'member', orgIds: [a.id] });
    advance(20 * DAY);
    // Day 25: one key used here, one used only in another organization (which keeps nothing alive here).
    await useIn(node1, adaUsedA, a.id);
    await useIn(node1, adaAnywhere, b.id);
    advance(5 * DAY + 3_600_000);
    // Day 30 + 1 h. Node 2 has both doomed keys cached (a use outside any organization, which counts for nothing).
    for (const k of [adaAnywhere, adaOnlyA])
      expect((await rest(node2.url, k.key, 'GET', '/me')).status).toBe(200);

    // Two sweepers at once, one per node.
    const [r1, r2] = await Promise.all([sweepStaleKeys(node1.deps), sweepStaleKeys(node2.deps)]);
    const actions = [...r1.actions, ...r2.actions].filter((x) => [a.id, b.id, c.id].includes(x.orgId));
    expect(actions.sort((x, y) => x.keyId.localeCompare(y.keyId))).toEqual(
      [
        { keyId: adaAnywhere.id, orgId: a.id, action: 'cut-off' },
        { keyId: adaOnlyA.id, orgId: a.id, action: 'revoked' },
      ].sort((x, y) => x.keyId.localeCompare(y.keyId)),
    );

    // Effective on the other node at once (through the invalidation channel).
    const statusOn = async (key: string, path: string) => (await rest(node2.url, key, 'GET', path)).body;
    await expect
      .poll(async () => (await statusOn(adaAnywhere.key, `/orgs/${a.id}/projects`)).code, { timeout: 5_000 })
      .toBe('KEY_CUT_OFF');
    expect((await rest(node2.url, adaAnywhere.key, 'GET', `/orgs/${b.id}/projects`)).status).toBe(200);
    await expect
      .poll(async () => (await rest(node2.url, adaOnlyA.key, 'GET', '/me')).status, { timeout: 5_000 })
      .toBe(401);
    for (const [k, org] of [
      [adaUsedA, a],
      [bobFresh, a],
      [bobOnlyC, c],
    ] as const)
      expect((await rest(node2.url, k.key, 'GET', `/orgs/${org.id}/projects`)).status).toBe(200);

    // Audited once, as the system, in the organization whose policy acted.
    const events = await systemEvents(a.id);
    expect(events.map((e) => [e.action, e.target_id]).sort()).toEqual(
      [
        ['key.cut_off', adaAnywhere.id],
        ['key.revoked', adaOnlyA.id],
      ].sort(),
    );
    for (const e of events) expect(e.metadata).toMatchObject({ reason: 'unused', unusedDays: N });
    expect(await systemEvents(c.id)).toEqual([]);

    // The owner sees why, and gets one mail naming both keys (whichever node sent it).
    await Promise.all([node1.deps.mailer.drain(), node2.deps.mailer.drain()]);
    const mails = staleMails(Ada.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain('anywhere');
    expect(mails[0]?.text).toContain('only-a');
    expect(mails[0]?.text).not.toContain('used-a');
    expect(mails[0]?.link.pathname).toBe('/settings/api-keys');
    expect(staleMails(Bob.email)).toHaveLength(0);
    const mine = await Ada.browser.trpc.keys.list.query();
    const onlyA = mine.find((k) => k.id === adaOnlyA.id);
    expect(onlyA).toMatchObject({ status: 'revoked', revokedReason: 'unused', revokedUnusedDays: N });
    const anywhere = mine.find((k) => k.id === adaAnywhere.id);
    expect(anywhere?.status).toBe('active');
    expect(anywhere?.cutOffs).toEqual([
      expect.objectContaining({ orgId: a.id, reason: 'unused', unusedDays: N }),
    ]);

    // Idempotent: another run (on either node) finds nothing, writes nothing, mails nobody.
    const again = await Promise.all([sweepStaleKeys(node1.deps), sweepStaleKeys(node2.deps)]);
    expect(again.flatMap((r) => r.actions).filter((x) => x.orgId === a.id)).toEqual([]);
    await Promise.all([node1.deps.mailer.drain(), node2.deps.mailer.drain()]);
    expect(staleMails(Ada.email)).toHaveLength(1);
    expect(await systemEvents(a.id)).toHaveLength(2);

    // Time goes on. The keys checked above were used here on day 30: a day short of N more days, nothing.
    advance((N - 1) * DAY);
    expect((await sweepStaleKeys(node1.deps)).actions.filter((x) => x.orgId === a.id)).toEqual([]);
    advance(DAY);
    const last = await sweepStaleKeys(node2.deps);
    expect(
      last.actions.filter((x) => x.orgId === a.id).sort((x, y) => x.keyId.localeCompare(y.keyId)),
    ).toEqual(
      [
        { keyId: adaUsedA.id, orgId: a.id, action: 'revoked' },
        { keyId: bobFresh.id, orgId: a.id, action: 'revoked' },
      ].sort((x, y) => x.keyId.localeCompare(y.keyId)),
    );
    // Org C has no policy: Bob's key there lives on, unused there for 60 days.
    expect((await rest(node1.url, bobOnlyC.key, 'GET', `/orgs/${c.id}/projects`)).status).toBe(200);
  });

  it('runs by itself on a timer in the API process', async () => {
    const { Ada } = cast;
    const org = await orgWith(Ada, 'Timer org');
    const idle = await keyFor(Ada, org.id, { name: 'idle', role: 'member', orgIds: [org.id] });
    await Ada.browser.trpc.orgs.setKeyPolicy.mutate({
      orgId: org.id,
      requireExpiry: false,
      maxLifetimeDays: null,
      revokeUnusedAfterDays: 7,
    });
    advance(7 * DAY);
    const sweeper = startStaleKeySweeper(node1.deps, 20);
    try {
      await expect
        .poll(async () => (await rest(node1.url, idle.key, 'GET', '/me')).status, { timeout: 10_000 })
        .toBe(401);
    } finally {
      await sweeper.stop();
    }
  });
});
