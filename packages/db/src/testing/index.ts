import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { type Orm, openDatabase } from '../orm.ts';
import { adminQuery, withDatabase } from './admin.ts';
import './provided-context.ts';

export { adminQuery, withDatabase } from './admin.ts';

export interface TestDatabase {
  /** Connection string of this test file's own database. */
  url: string;
  /** Drops the database (connections are closed first). */
  drop(): Promise<void>;
}

/**
 * A fresh, fully migrated database for one test file, copied from the run's template. Call from `beforeAll`
 * (the vitest global setup from `@crowdee/db/testing/global-setup` must be configured).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('databaseAdminUrl');
  const template = inject('databaseTemplate');
  const name = `${inject('databaseRunId')}_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `create database "${name}" template "${template}"`);
  return {
    url: withDatabase(adminUrl, name),
    drop: async () => {
      await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
    },
  };
}

/** A test database with an ORM connected to it. */
export async function createTestOrm(): Promise<{ orm: Orm; url: string; close(): Promise<void> }> {
  const db = await createTestDatabase();
  const orm = await openDatabase({ url: db.url, poolMax: 5 });
  return {
    orm,
    url: db.url,
    close: async () => {
      await orm.close();
      await db.drop();
    },
  };
}
