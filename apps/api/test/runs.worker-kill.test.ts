/**
 * The "done when": a worker process SIGKILLed in the middle of a run leaves a run that another worker
 * completes with each item judged exactly once, and verdicts identical to running packages/core's pipeline over the
 * same items. Real processes (`src/worker.ts`, as `pnpm --filter @crowdee/api worker` runs it), real pg-boss, real
 * PostgreSQL; the test waits on counts, never on time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PIPELINE, judgeDataset } from '@crowdee/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixedItems, pipelineItems, seedDataset } from './helpers/datasets.ts';
import { orgWith, type Person, people } from './helpers/fixtures.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const API_DIR = fileURLToPath(new URL('..', import.meta.url));
const ITEMS = 3000;
const CHUNK = 20;

let app: TestApp;
const workers: ChildProcess[] = [];

function startWorker(dbUrl: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: API_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: dbUrl,
      RUN_CHUNK_SIZE: String(CHUNK),
      WORKER_CONCURRENCY: '1',
      // The least pg-boss allows: a killed worker's run is handed out again about this long later.
      WORKER_HEARTBEAT_SECONDS: '10',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  workers.push(child);
  return child;
}

async function query<T>(client: pg.Client, sql: string, params: unknown[]): Promise<T[]> {
  return (await client.query(sql, params)).rows as T[];
}

beforeAll(async () => {
  // The test process's queue supervises too (as an API node would), so it notices the dead worker's silence.
  const base = (await import('../src/config.ts')).testConfig().runs;
  app = await startTestApp({
    config: { runs: { ...base, heartbeatSeconds: 10, superviseIntervalSeconds: 2 } },
  });
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await app?.close();
});

describe('a worker killed mid-run', () => {
  it('another worker resumes the run; every item is judged once, as packages/core judges the dataset', async () => {
    const founder = (await people(app, ['Founder'])).Founder as Person;
    const orgId = (await orgWith(founder, 'Kill')).id;
    const projectId = (await founder.browser.trpc.projects.create.mutate({ orgId, name: 'k' })).id;
    const { datasetId } = await seedDataset(
      app.orm,
      { orgId, projectId, createdBy: founder.id },
      mixedItems(ITEMS),
    );
    const run = await founder.browser.trpc.runs.start.mutate({ orgId, projectId, datasetId });

    const db = new pg.Client({ connectionString: app.dbUrl });
    await db.connect();
    try {
      const progress = async () =>
        (
          await query<{ processed: number; total: number; status: string }>(
            db,
            'select processed, total, status from verification_runs where id = $1',
            [run.id],
          )
        )[0];

      const first = startWorker(app.dbUrl);
      await expect
        .poll(async () => (await progress())?.processed ?? 0, { timeout: 120_000, interval: 20 })
        .toBeGreaterThan(0);
      // Hold the run's lock: the worker stops at its next chunk, and the counts cannot move while we look and kill.
      await db.query('begin');
      const [held] = await query<{ processed: number; total: number }>(
        db,
        'select processed, total from verification_runs where id = $1 for update',
        [run.id],
      );
      expect(held?.total).toBe(ITEMS);
      expect(held?.processed).toBeGreaterThan(0);
      expect(held?.processed).toBeLessThan(ITEMS);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      await db.query('rollback');

      startWorker(app.dbUrl);
      await expect
        .poll(async () => (await progress())?.status, { timeout: 240_000, interval: 200 })
        .toBe('succeeded');

      const [counts] = await query<{ results: string; items: string }>(
        db,
        'select count(*) as results, count(distinct item_id) as items from verification_results where run_id = $1',
        [run.id],
      );
      expect(Number(counts?.results)).toBe(ITEMS);
      expect(Number(counts?.items)).toBe(ITEMS);
      expect(await progress()).toMatchObject({ processed: ITEMS, total: ITEMS });
      // The queue really handed the run out again (it was not merely finished by the first worker).
      const [job] = await query<{ retry_count: number }>(
        db,
        "select retry_count from pgboss.job where name = 'verification-runs' and data->>'runId' = $1",
        [run.id],
      );
      expect(job?.retry_count).toBeGreaterThanOrEqual(1);

      const results = await query<{ item_id: string; verdict: string; reasons: unknown }>(
        db,
        'select item_id, verdict, reasons from verification_results where run_id = $1 order by seq',
        [run.id],
      );
      const expected = judgeDataset(DEFAULT_PIPELINE, await pipelineItems(app.orm, datasetId));
      expect(results.map((r) => ({ itemId: r.item_id, verdict: r.verdict, reasons: r.reasons }))).toEqual(
        expected,
      );
    } finally {
      await db.end();
    }
  });
});
