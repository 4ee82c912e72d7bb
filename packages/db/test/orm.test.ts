import { randomUUID } from 'node:crypto';
import { generateKey } from '@crowdee/core';
import { UniqueConstraintViolationException, wrap } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, Membership, Organization, RateLimitOverride, User } from '../src/index.ts';
import { adminQuery, createTestOrm } from '../src/testing/index.ts';

type TestOrm = Awaited<ReturnType<typeof createTestOrm>>;
let db: TestOrm;

beforeAll(async () => {
  db = await createTestOrm();
});
afterAll(async () => {
  await db?.close();
});

function newUser(email = `${randomUUID()}@example.com`) {
  const em = db.orm.em.fork();
  const user = em.create(User, {
    id: randomUUID(),
    email,
    name: 'Ada',
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    createdAt: new Date(),
  });
  return { em, user };
}

describe('schema', () => {
  it('is migrated, with every table and the migration recorded', async () => {
    const rows = await db.orm.em
      .getConnection()
      .execute<{ table_name: string }[]>(
        "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
      );
    expect(rows.map((r) => r.table_name)).toEqual([
      'account_tokens',
      'api_key_org_access',
      'api_key_recent_ips',
      'api_keys',
      'audit_events',
      'auth_challenges',
      'dataset_items',
      'datasets',
      'idempotency_records',
      'invitations',
      'limit_requests',
      'memberships',
      'mikro_orm_migrations',
      'organizations',
      'passkeys',
      'projects',
      'rate_limit_overrides',
      'recovery_codes',
      'session_tokens',
      'sessions',
      'usage_hourly',
      'user_totp',
      'users',
      'verification_results',
      'verification_runs',
    ]);
    const pending = await db.orm.getMigrator().getPendingMigrations();
    expect(pending).toEqual([]);
  });

  it('enforces one account per email', async () => {
    const email = `${randomUUID()}@example.com`;
    const a = newUser(email);
    await a.em.flush();
    const b = newUser(email);
    await expect(b.em.flush()).rejects.toBeInstanceOf(UniqueConstraintViolationException);
  });

  it('enforces one membership per user and organization, and valid roles', async () => {
    const { em, user } = newUser();
    const org = em.create(Organization, {
      id: randomUUID(),
      name: 'Acme',
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    em.create(Membership, {
      id: randomUUID(),
      user,
      organization: org,
      role: 'owner',
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await em.flush();
    const em2 = db.orm.em.fork();
    em2.create(Membership, {
      id: randomUUID(),
      user: user.id,
      organization: org.id,
      role: 'viewer',
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await expect(em2.flush()).rejects.toBeInstanceOf(UniqueConstraintViolationException);
    await expect(
      db.orm.em
        .getConnection()
        .execute(
          `insert into memberships (id, user_id, organization_id, role, created_at, updated_at) values (?, ?, ?, 'root', now(), now())`,
          [randomUUID(), user.id, org.id],
        ),
    ).rejects.toThrow(/check constraint/);
  });

  it('stores a key by hash, with its scope as an array, and never serialises hash or password hash', async () => {
    const { em, user } = newUser();
    const orgA = randomUUID();
    const orgB = randomUUID();
    const { key, hash, hint } = generateKey();
    const apiKey = em.create(ApiKey, {
      id: randomUUID(),
      name: 'ci',
      hash,
      hint,
      role: 'member',
      creator: user,
      scopeOrgIds: [orgA, orgB],
      createdAt: new Date(),
    });
    await em.flush();
    const found = await db.orm.em.fork().findOneOrFail(ApiKey, { hash });
    expect(found.scopeOrgIds).toEqual([orgA, orgB]);
    expect(found.hint).toBe(hint);
    const json = JSON.stringify(wrap(apiKey).toObject());
    expect(json).not.toContain(hash);
    expect(json).not.toContain(key);
    expect(JSON.stringify(wrap(user).toObject())).not.toContain('argon2id');
    // An unscoped key stores NULL, not an empty array (which would mean "no organization").
    em.create(ApiKey, {
      id: randomUUID(),
      name: 'all',
      hash: generateKey().hash,
      hint: 'x',
      role: 'viewer',
      creator: user,
      scopeOrgIds: null,
      createdAt: new Date(),
    });
    await em.flush();
    const nulls = await db.orm.em
      .getConnection()
      .execute<{ n: string }[]>(
        'select count(*) as n from api_keys where scope_org_ids is null and creator_id = ?',
        [user.id],
      );
    expect(Number(nulls[0]?.n)).toBe(1);
  });

  it('requires a rate-limit override to target exactly one of organization or key', async () => {
    const em = db.orm.em.fork();
    em.create(RateLimitOverride, {
      id: randomUUID(),
      quota: 10,
      windowSeconds: 60,
      reason: 'none',
      createdBy: 'test',
      createdAt: new Date(),
    });
    await expect(em.flush()).rejects.toThrow(/rate_limit_overrides_one_target/);
  });
});

describe('test isolation', () => {
  it('gives every test file its own database', async () => {
    const other = await createTestOrm();
    try {
      const { em } = newUser('isolated@example.com');
      await em.flush();
      const there = await other.orm.em.fork().count(User, { email: 'isolated@example.com' });
      expect(there).toBe(0);
      const names = await adminQuery(other.url, 'select current_database() as name');
      expect(names.rows[0].name).not.toBe(new URL(db.url).pathname.slice(1));
    } finally {
      await other.close();
    }
  });
});
