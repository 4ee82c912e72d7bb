import {
  countVerdicts,
  duplicateKeys,
  type ItemJudgement,
  judgeChunk,
  type PipelineItem,
  validatePipelineSpec,
} from '@crowdee/core';
import type { Orm } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.ts';

export interface RunWorkerDeps {
  orm: Orm;
  logger: Logger;
  clock: () => Date;
}

export type RunOutcome = 'succeeded' | 'cancelled' | 'failed' | 'missing' | 'interrupted';

type ChunkOutcome =
  | { done: true; outcome: Exclude<RunOutcome, 'interrupted'> }
  | { done: false; judged: number };

interface RunRow {
  status: string;
  pipeline: unknown;
  dataset_id: string;
  created_at: string | Date;
}

interface ItemRow {
  id: string;
  created_us: string | number;
  kind: 'file' | 'text';
  media_type: string;
  size: number;
  sha256: string;
  text: string | null;
}

// Dataset order is (creation time, id), the order packages/core's compareItemOrder defines. Times go to core as
// epoch microseconds, PostgreSQL's own precision, so the two orders agree for rows written in the same millisecond.
const CREATED_US = '(extract(epoch from i.created_at) * 1000000)::bigint';

/** The items after the last one this run judged, in dataset order (the (dataset, created_at, id) index). */
const NEXT_ITEMS_SQL = `
  select i.id, ${CREATED_US} as created_us, i.kind, i.media_type, i.size, i.sha256,
         case when i.kind = 'text' then i.text end as text
    from dataset_items i
   where i.dataset_id = ? and i.created_at <= ?
     and (i.created_at, i.id) > (?::timestamptz, ?::uuid)
   order by i.created_at, i.id
   limit ?`;

/** Where the last chunk ended: its last item's exact timestamp, as text so no precision is lost on the way. */
const LAST_JUDGED_SQL = `
  select i.created_at::text as created_at, i.id
    from verification_results r join dataset_items i on i.id = r.item_id
   where r.run_id = ?
   order by r.seq desc
   limit 1`;

// Separate from the cursor: an item deleted after it was judged takes its result with it, never its seq.
const LAST_SEQ_SQL = 'select coalesce(max(seq), 0) as seq from verification_results where run_id = ?';

const INSERT_RESULTS_SQL = `
  insert into verification_results (run_id, item_id, seq, verdict, reasons, exact_key, near_key)
  select x.run_id, x.item_id, x.seq, x.verdict, x.reasons, x.exact_key, x.near_key
    from jsonb_to_recordset(?::jsonb)
      as x(run_id uuid, item_id uuid, seq int, verdict text, reasons jsonb, exact_key text, near_key text)
  on conflict do nothing
  returning verdict`;

const MIN_UUID = '00000000-0000-0000-0000-000000000000';

function toPipelineItem(row: ItemRow): PipelineItem {
  return {
    id: row.id,
    createdAt: Number(row.created_us),
    kind: row.kind,
    mediaType: row.media_type,
    size: Number(row.size),
    sha256: row.sha256,
    text: row.kind === 'text' ? (row.text ?? '') : null,
  };
}

async function finish(
  tem: EntityManager,
  runId: string,
  status: 'succeeded' | 'failed',
  now: Date,
  failure: string | null,
): Promise<void> {
  // `total` becomes what was judged: items deleted during the run are not owed a result.
  await tem.execute(
    `update verification_runs
        set status = ?, finished_at = ?, failure = ?, version = version + 1,
            total = case when ? = 'succeeded' then processed else total end
      where id = ?`,
    [status, now, failure, status, runId],
    'run',
  );
}

/**
 * Judges the next chunk of a run in one transaction: lock the run, read the next items after the last judged one,
 * ask for the duplicate keys earlier results hold, judge with packages/core, write the results and the progress.
 * A worker killed mid-chunk leaves nothing of it; the unique (run, item) key and the run lock mean a chunk is
 * never judged twice even if two workers ever held the same run.
 */
async function judgeNextChunk(deps: RunWorkerDeps, runId: string, chunkSize: number): Promise<ChunkOutcome> {
  return deps.orm.em.fork().transactional(async (tem) => {
    const [run] = await tem.execute<RunRow[]>(
      'select status, pipeline, dataset_id, created_at from verification_runs where id = ? for update',
      [runId],
    );
    if (!run) return { done: true, outcome: 'missing' };
    if (run.status === 'cancelled' || run.status === 'succeeded' || run.status === 'failed')
      return { done: true, outcome: run.status };
    const now = deps.clock();
    const cutoff = run.created_at instanceof Date ? run.created_at : new Date(run.created_at);
    if (run.status === 'queued') {
      const [count] = await tem.execute<{ n: string }[]>(
        'select count(*) as n from dataset_items where dataset_id = ? and created_at <= ?',
        [run.dataset_id, cutoff],
      );
      await tem.execute(
        `update verification_runs set status = 'running', started_at = ?, total = ?, version = version + 1
          where id = ?`,
        [now, Number(count?.n ?? 0), runId],
        'run',
      );
    }
    const validation = validatePipelineSpec(run.pipeline);
    if (!validation.ok) {
      await finish(tem, runId, 'failed', now, 'The stored pipeline is not valid.');
      return { done: true, outcome: 'failed' };
    }
    const [last] = await tem.execute<{ created_at: string; id: string }[]>(LAST_JUDGED_SQL, [runId]);
    const [lastSeq] = await tem.execute<{ seq: number | string }[]>(LAST_SEQ_SQL, [runId]);
    const rows = await tem.execute<ItemRow[]>(NEXT_ITEMS_SQL, [
      run.dataset_id,
      cutoff,
      last?.created_at ?? '-infinity',
      last?.id ?? MIN_UUID,
      chunkSize,
    ]);
    if (rows.length === 0) {
      await finish(tem, runId, 'succeeded', now, null);
      return { done: true, outcome: 'succeeded' };
    }
    const items = rows.map(toPipelineItem);
    const keys = items.map(duplicateKeys);
    const exact = keys.map((k) => k.exact);
    const near = keys.flatMap((k) => (k.near === null ? [] : [k.near]));
    const [priorExact, priorNear] = await Promise.all([
      tem.execute<{ k: string }[]>(
        `select distinct exact_key as k from verification_results
          where run_id = ? and exact_key in (select jsonb_array_elements_text(?::jsonb))`,
        [runId, JSON.stringify(exact)],
      ),
      near.length === 0
        ? Promise.resolve([])
        : tem.execute<{ k: string }[]>(
            `select distinct near_key as k from verification_results
              where run_id = ? and near_key in (select jsonb_array_elements_text(?::jsonb))`,
            [runId, JSON.stringify(near)],
          ),
    ]);
    const judgements: ItemJudgement[] = judgeChunk(validation.pipeline, items, {
      exact: new Set(priorExact.map((r) => r.k)),
      near: new Set(priorNear.map((r) => r.k)),
    });
    const keysById = new Map(items.map((item, i) => [item.id, keys[i]]));
    const firstSeq = Number(lastSeq?.seq ?? 0) + 1;
    const records = judgements.map((j, i) => ({
      run_id: runId,
      item_id: j.itemId,
      seq: firstSeq + i,
      verdict: j.verdict,
      reasons: j.reasons,
      exact_key: keysById.get(j.itemId)?.exact ?? '',
      near_key: keysById.get(j.itemId)?.near ?? null,
    }));
    const inserted = await tem.execute<{ verdict: 'pass' | 'flag' | 'fail' }[]>(INSERT_RESULTS_SQL, [
      JSON.stringify(records),
    ]);
    const counts = countVerdicts(inserted);
    await tem.execute(
      `update verification_runs
          set processed = processed + ?, pass_count = pass_count + ?, flag_count = flag_count + ?,
              fail_count = fail_count + ?, version = version + 1
        where id = ?`,
      [inserted.length, counts.pass, counts.flag, counts.fail, runId],
      'run',
    );
    return { done: false, judged: inserted.length };
  });
}

/**
 * Works a run to its end, a chunk at a time, from wherever its last committed chunk left it (a fresh run, or one
 * whose previous worker was killed). Stops between chunks when the run is cancelled or `signal` is aborted
 * (shutdown): then the answer is 'interrupted' and the queue must hand the run out again.
 */
export async function processRun(
  deps: RunWorkerDeps,
  runId: string,
  options: { chunkSize: number; signal?: AbortSignal; afterChunk?: () => Promise<void> },
): Promise<RunOutcome> {
  for (;;) {
    if (options.signal?.aborted) return 'interrupted';
    const step = await judgeNextChunk(deps, runId, options.chunkSize);
    if (step.done) return step.outcome;
    await options.afterChunk?.();
  }
}

/** The last attempt could not finish the run: say so on the run rather than leave it running forever. */
export async function markRunFailed(deps: RunWorkerDeps, runId: string, failure: string): Promise<void> {
  await deps.orm.em.fork().transactional(async (tem) => {
    const [run] = await tem.execute<{ status: string }[]>(
      'select status from verification_runs where id = ? for update',
      [runId],
    );
    if (run && (run.status === 'queued' || run.status === 'running'))
      await finish(tem, runId, 'failed', deps.clock(), failure.slice(0, 500));
  });
}
