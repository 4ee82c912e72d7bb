/**
 * Vitest global setup shared by every package whose tests need PostgreSQL. With DATABASE_URL it uses that server;
 * without it, it starts a throw-away embedded PostgreSQL. Either way it migrates one template database per run;
 * each test file then gets its own copy (`CREATE DATABASE … TEMPLATE`), so files never see each other's rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../embedded-postgres.ts';
import { openDatabase } from '../orm.ts';
import { adminQuery, dropDatabases, RUN_PREFIX, withDatabase } from './admin.ts';
import './provided-context.ts';

let stopEmbedded: (() => Promise<void>) | undefined;
let adminUrl = '';
let runId = '';

export async function setup(project: TestProject): Promise<void> {
  runId = `${RUN_PREFIX}${process.pid}_${Date.now().toString(36)}`;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
    console.info(`[db] tests use the PostgreSQL server at DATABASE_URL (${redactUrl(adminUrl)})`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'crowdee-test-pg-'));
    const pg = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
    adminUrl = pg.adminUrl;
    stopEmbedded = async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    console.info('[db] tests use a throw-away embedded PostgreSQL (set DATABASE_URL to use a server)');
  }
  const template = `${runId}_tpl`;
  await adminQuery(adminUrl, `create database "${template}"`);
  const orm = await openDatabase({ url: withDatabase(adminUrl, template), poolMax: 2 });
  await orm.close();
  project.provide('databaseAdminUrl', adminUrl);
  project.provide('databaseTemplate', template);
  project.provide('databaseRunId', runId);
}

export async function teardown(): Promise<void> {
  try {
    if (adminUrl) await dropDatabases(adminUrl, runId);
  } finally {
    await stopEmbedded?.();
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
