/**
 * `pnpm bench` (runs part): items verified per second on one node.
 *
 *   - the worker path: `processRun` judging a dataset chunk by chunk in PostgreSQL (read items, ask earlier results
 *     for duplicate keys, judge with packages/core, write results and progress in one transaction per chunk);
 *   - the same through the queue: a run started, picked up by an in-process pg-boss worker, until it succeeded;
 *   - the baseline measured in the same run: packages/core judging the same items in memory (`judgeDataset`), so
 *     the ratio says what the database and the queue add.
 */
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEFAULT_PIPELINE, judgeDataset, type PipelineItem } from '@crowdee/core';
import { openDatabase, serverOrThrowAwayPostgres } from '@crowdee/db';
import { testConfig } from '../src/config.ts';
import { createDeps } from '../src/deps.ts';
import { createLogger } from '../src/logger.ts';
import { processRun } from '../src/runs/run-worker.ts';
import { startRunWorkers } from '../src/runs/run-workers.ts';
import { signUp } from '../src/services/accounts.service.ts';
import { createOrganization } from '../src/services/organizations.service.ts';
import { createProject } from '../src/services/projects.service.ts';
import { getRun, startRun } from '../src/services/runs.service.ts';
import { median } from './run.ts';

const ITEMS = Number(process.env.BENCH_RUN_ITEMS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHUNK = Number(process.env.RUN_CHUNK_SIZE ?? 500);

/** Texts with some duplicates, near duplicates and links, and some files: every check has work to do. */
function itemRows(datasetId: string, createdAt: Date) {
  return Array.from({ length: ITEMS }, (_, i) => {
    const isFile = i % 10 === 9;
    const text = isFile
      ? null
      : i % 13 === 0
        ? `Post ${i % 50}! see https://example.com/${i}`
        : `post number ${i % 4000} about things`;
    const bytes = Buffer.from(text ?? `file ${i % 3000}`, 'utf8');
    return {
      id: randomUUID(),
      dataset_id: datasetId,
      external_id: `item-${i}`,
      kind: isFile ? 'file' : 'text',
      name: isFile ? `f${i}.png` : null,
      media_type: isFile ? 'image/png' : 'text/plain; charset=utf-8',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      text,
      content: isFile ? bytes.toString('base64') : null,
      created_at: createdAt.toISOString(),
    };
  });
}

async function main(): Promise<void> {
  const { url, stop: stopPg } = await serverOrThrowAwayPostgres(
    process.env.DATABASE_URL,
    'crowdee-bench-runs-',
  );
  const orm = await openDatabase({ url });
  const config = testConfig({ runs: { ...testConfig().runs, chunkSize: CHUNK, concurrency: 1 } });
  const deps = createDeps(config, createLogger({ logLevel: 'warn' }), orm);
  try {
    console.log(
      `\nCrowdee runs bench — ${ITEMS} items per run, chunks of ${CHUNK}, ${ROUNDS} rounds, Node ${process.version}`,
    );
    const em = orm.em.fork();
    const origin = { ip: '127.0.0.1', userAgent: 'bench' };
    const { user } = await signUp(
      deps,
      em,
      { email: `bench-runs-${Date.now()}@example.com`, password: 'bench password 123', name: 'Bench' },
      origin,
    );
    const actor = { type: 'user' as const, userId: user.id, keyId: null, ...origin };
    const org = await createOrganization(deps, em, actor, 'Bench Runs');
    const project = await createProject(deps, em, actor, org.id, { name: 'bench' });
    const datasetId = randomUUID();
    const createdAt = new Date();
    await em.getConnection().execute(
      `insert into datasets (id, organization_id, project_id, name, created_by, created_at, item_count)
       values (?, ?, ?, 'bench', ?, ?, ?)`,
      [datasetId, org.id, project.id, user.id, createdAt, ITEMS],
    );
    const rows = itemRows(datasetId, createdAt);
    for (let i = 0; i < rows.length; i += 1000) {
      await em.getConnection().execute(
        `insert into dataset_items (id, dataset_id, external_id, kind, name, media_type, size, sha256, text, content, created_at)
         select x.id, x.dataset_id, x.external_id, x.kind, x.name, x.media_type, x.size, x.sha256, x.text,
                decode(x.content, 'base64'), x.created_at
           from jsonb_to_recordset(?::jsonb) as x(id uuid, dataset_id uuid, external_id text, kind text, name text,
                media_type text, size int, sha256 text, text text, content text, created_at timestamptz)`,
        [JSON.stringify(rows.slice(i, i + 1000))],
      );
    }
    const ref = { orgId: org.id, projectId: project.id, datasetId };
    const items: PipelineItem[] = rows.map((r) => ({
      id: r.id,
      createdAt: createdAt.getTime() * 1000,
      kind: r.kind as 'file' | 'text',
      mediaType: r.media_type,
      size: r.size,
      sha256: r.sha256,
      text: r.text,
    }));

    const pure: number[] = [];
    const worker: number[] = [];
    const queued: number[] = [];
    // Worked here, before any queue worker exists: nothing else touches these runs while they are timed.
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      judgeDataset(DEFAULT_PIPELINE, items);
      pure.push(ITEMS / ((performance.now() - t0) / 1000));
      const direct = await startRun(deps, orm.em.fork(), actor, ref, 'default');
      const t1 = performance.now();
      const outcome = await processRun(deps, direct.id, { chunkSize: CHUNK });
      worker.push(ITEMS / ((performance.now() - t1) / 1000));
      if (outcome !== 'succeeded') throw new Error(`run ended ${outcome}`);
      console.log(
        `  round ${round + 1}: core in memory ${pure.at(-1)?.toFixed(0)}/s | worker ${worker.at(-1)?.toFixed(0)}/s`,
      );
    }
    // The queue's first run also creates pg-boss's schema and drains the jobs above: warm up outside the rounds.
    await startRunWorkers(deps);
    const warm = await startRun(deps, orm.em.fork(), actor, ref, 'default');
    await waitFor(deps, ref, warm.id);
    for (let round = 0; round < ROUNDS; round++) {
      const t = performance.now();
      const viaQueue = await startRun(deps, orm.em.fork(), actor, ref, 'default');
      await waitFor(deps, ref, viaQueue.id);
      queued.push(ITEMS / ((performance.now() - t) / 1000));
      console.log(`  round ${round + 1}: through the queue ${queued.at(-1)?.toFixed(0)}/s`);
    }
    const base = median(pure);
    console.log('\n=== Runs results ===');
    console.log(
      `items verified per second, worker (single node)            ${median(worker).toFixed(0).padStart(8)} items/s   ${pct(median(worker) / base)} of core in memory`,
    );
    console.log(
      `items verified per second, through the queue (single node) ${median(queued).toFixed(0).padStart(8)} items/s   ${pct(median(queued) / base)} of core in memory (includes pick-up)`,
    );
    console.log(
      `baseline: packages/core judgeDataset in memory             ${base.toFixed(0).padStart(8)} items/s`,
    );
  } finally {
    await deps.runQueue.stop();
    await orm.close();
    await stopPg();
  }
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(1).padStart(5)} %`;
}

async function waitFor(
  deps: ReturnType<typeof createDeps>,
  ref: { orgId: string; projectId: string; datasetId: string },
  runId: string,
): Promise<void> {
  for (;;) {
    const run = await getRun(deps.orm.em.fork(), ref, runId);
    if (run.status === 'succeeded') return;
    if (run.status !== 'queued' && run.status !== 'running') throw new Error(`run ended ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
