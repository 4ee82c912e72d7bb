import { randomUUID } from 'node:crypto';
import {
  DEFAULT_PIPELINE,
  DomainError,
  type PipelineSpec,
  type Reason,
  type RunStatus,
  runIsActive,
  type Verdict,
  validatePipelineSpec,
} from '@crowdee/core';
import { Dataset, VerificationRun } from '@crowdee/db';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { type Actor, recordAudit } from './audit.service.ts';

export interface DatasetRef {
  orgId: string;
  projectId: string;
  datasetId: string;
}

export interface RunView {
  id: string;
  datasetId: string;
  projectId: string;
  status: RunStatus;
  total: number;
  processed: number;
  counts: { pass: number; flag: number; fail: number };
  pipeline: PipelineSpec;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface OrgRunView extends RunView {
  datasetName: string;
}

export interface ResultView {
  itemId: string;
  externalId: string;
  verdict: Verdict;
  reasons: Reason[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A run as the ETag sees it: what `GET …/runs/{runId}` answers changes exactly when `version` does. */
export interface RunVersion {
  version: number;
  status: RunStatus;
}

const runNotFound = () => new DomainError('NOT_FOUND', 'Run not found.');
const datasetNotFound = () => new DomainError('NOT_FOUND', 'Dataset not found.');
const invalidCursor = () =>
  new DomainError('VALIDATION_FAILED', 'The cursor is not one this listing gave out.', {
    fieldErrors: [{ path: 'cursor', message: 'Not a cursor of this listing: start again without one.' }],
  });

function view(run: VerificationRun, projectId: string, datasetId: string): RunView {
  // Stored snapshots were validated when the run started; a default is only a fallback for a corrupted row.
  const pipeline = validatePipelineSpec(run.pipeline);
  return {
    id: run.id,
    datasetId,
    projectId,
    status: run.status,
    total: run.total,
    processed: run.processed,
    counts: { pass: run.passCount, flag: run.flagCount, fail: run.failCount },
    pipeline: pipeline.ok ? pipeline.pipeline : DEFAULT_PIPELINE,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

/** Run cursors: the (createdAt, id) of the last run of a page, newest first. */
function encodeRunCursor(run: VerificationRun): string {
  return Buffer.from(JSON.stringify([run.createdAt.getTime(), run.id])).toString('base64url');
}

function decodeRunCursor(cursor: string | undefined): { createdAt: Date; id: string } | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      Number.isSafeInteger(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      /^[0-9a-f-]{36}$/.test(parsed[1])
    )
      return { createdAt: new Date(parsed[0] as number), id: parsed[1] };
  } catch {
    // falls through to the 400 below
  }
  throw invalidCursor();
}

function beforePosition(position: { createdAt: Date; id: string } | null): Record<string, unknown> {
  if (!position) return {};
  return {
    $or: [
      { createdAt: { $lt: position.createdAt } },
      { createdAt: position.createdAt, id: { $lt: position.id } },
    ],
  };
}

async function findDataset(em: EntityManager, ref: DatasetRef): Promise<Dataset> {
  const dataset = await em.findOne(Dataset, {
    id: ref.datasetId,
    organization: ref.orgId,
    project: ref.projectId,
  });
  if (!dataset) throw datasetNotFound();
  return dataset;
}

async function findRun(em: EntityManager, ref: DatasetRef, runId: string): Promise<VerificationRun> {
  const run = await em.findOne(VerificationRun, {
    id: runId,
    organization: ref.orgId,
    project: ref.projectId,
    dataset: ref.datasetId,
  });
  if (!run) throw runNotFound();
  return run;
}

/** `'default'`, nothing, or a pipeline definition (validated by packages/core: unknown checks are refused). */
export function resolvePipeline(input: 'default' | unknown): PipelineSpec {
  if (input === undefined || input === 'default') return structuredClone(DEFAULT_PIPELINE);
  const validation = validatePipelineSpec(input);
  if (validation.ok) return validation.pipeline;
  throw new DomainError('VALIDATION_FAILED', 'The pipeline is not valid: see the field errors.', {
    fieldErrors: validation.errors.map((e) => ({
      path: e.path ? `pipeline.${e.path}` : 'pipeline',
      message: e.message,
    })),
  });
}

export async function startRun(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  ref: DatasetRef,
  pipelineInput: unknown,
): Promise<RunView> {
  const pipeline = resolvePipeline(pipelineInput);
  await findDataset(em, ref);
  const now = deps.clock();
  const run = em.create(VerificationRun, {
    id: randomUUID(),
    organization: ref.orgId,
    project: ref.projectId,
    dataset: ref.datasetId,
    pipeline,
    status: 'queued',
    total: 0,
    processed: 0,
    passCount: 0,
    flagCount: 0,
    failCount: 0,
    failure: null,
    createdBy: actor.userId ?? '00000000-0000-0000-0000-000000000000',
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    version: 1,
  });
  recordAudit(em, actor, {
    action: 'run.started',
    organizationId: ref.orgId,
    target: { type: 'run', id: run.id },
    metadata: {
      datasetId: ref.datasetId,
      pipeline: pipelineInput === undefined || pipelineInput === 'default' ? 'default' : 'custom',
    },
    at: now,
  });
  await em.flush();
  try {
    await deps.runQueue.enqueue(run.id);
  } catch (error) {
    deps.logger.error({ err: error, runId: run.id }, 'could not queue a run');
    run.status = 'failed';
    run.failure = 'Could not be queued.';
    run.finishedAt = deps.clock();
    run.version += 1;
    await em.flush();
    throw new DomainError('SERVICE_UNAVAILABLE', 'The run could not be queued. Try again shortly.');
  }
  return view(run, ref.projectId, ref.datasetId);
}

export async function getRun(
  em: EntityManager,
  ref: DatasetRef,
  runId: string,
): Promise<RunView & { version: number }> {
  const run = await findRun(em, ref, runId);
  return { ...view(run, ref.projectId, ref.datasetId), version: run.version };
}

/** One indexed row, no entity: what a conditional poll needs. Null for a run that is not there (or not theirs). */
export async function runVersion(
  em: EntityManager,
  ref: DatasetRef,
  runId: string,
): Promise<RunVersion | null> {
  const [row] = await em.getConnection().execute<{ version: number; status: RunStatus }[]>(
    `select version, status from verification_runs
        where id = ? and organization_id = ? and project_id = ? and dataset_id = ?`,
    [runId, ref.orgId, ref.projectId, ref.datasetId],
  );
  return row ? { version: Number(row.version), status: row.status } : null;
}

export async function listRuns(
  em: EntityManager,
  ref: DatasetRef,
  page: { cursor?: string | undefined; limit: number },
): Promise<Page<RunView>> {
  const position = decodeRunCursor(page.cursor);
  await findDataset(em, ref);
  const rows = await em.find(
    VerificationRun,
    { organization: ref.orgId, project: ref.projectId, dataset: ref.datasetId, ...beforePosition(position) },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: page.limit + 1 },
  );
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r) => view(r, ref.projectId, ref.datasetId)),
    nextCursor: rows.length > page.limit && last ? encodeRunCursor(last) : null,
  };
}

export async function listOrgRuns(
  em: EntityManager,
  orgId: string,
  page: { cursor?: string | undefined; limit: number },
): Promise<Page<OrgRunView>> {
  const position = decodeRunCursor(page.cursor);
  const rows = await em.find(
    VerificationRun,
    { organization: orgId, ...beforePosition(position) },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: page.limit + 1, populate: ['dataset'] },
  );
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r) => ({
      ...view(r, r.project.id, r.dataset.id),
      datasetName: r.dataset.name,
    })),
    nextCursor: rows.length > page.limit && last ? encodeRunCursor(last) : null,
  };
}

export async function cancelRun(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  ref: DatasetRef,
  runId: string,
): Promise<RunView> {
  return em.transactional(async (tem) => {
    // The worker holds this row's lock while it writes a chunk: cancelling waits for that chunk, and the worker
    // sees the cancellation before its next one.
    const run = await tem.findOne(
      VerificationRun,
      { id: runId, organization: ref.orgId, project: ref.projectId, dataset: ref.datasetId },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!run) throw runNotFound();
    if (run.status === 'cancelled') return view(run, ref.projectId, ref.datasetId);
    if (!runIsActive(run.status))
      throw new DomainError(
        'CONFLICT',
        `The run has already ${run.status === 'succeeded' ? 'succeeded' : 'failed'}.`,
      );
    run.status = 'cancelled';
    const cancelledAt = deps.clock();
    run.finishedAt = cancelledAt;
    run.version += 1;
    recordAudit(tem, actor, {
      action: 'run.cancelled',
      organizationId: ref.orgId,
      target: { type: 'run', id: run.id },
      metadata: { datasetId: ref.datasetId, processed: run.processed },
      at: cancelledAt,
    });
    return view(run, ref.projectId, ref.datasetId);
  });
}

interface ResultRow {
  item_id: string;
  external_id: string;
  verdict: Verdict;
  reasons: Reason[] | string;
  seq: number;
}

const RESULTS_SQL = (withVerdict: boolean) => `
  select r.item_id, i.external_id, r.verdict, r.reasons, r.seq
    from verification_results r join dataset_items i on i.id = r.item_id
   where r.run_id = ? and r.seq > ?${withVerdict ? ' and r.verdict = ?' : ''}
   order by r.seq
   limit ?`;

function resultView(row: ResultRow): ResultView {
  return {
    itemId: row.item_id,
    externalId: row.external_id,
    verdict: row.verdict,
    reasons: typeof row.reasons === 'string' ? (JSON.parse(row.reasons) as Reason[]) : row.reasons,
  };
}

function decodeSeqCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,10}$/.test(cursor)) throw invalidCursor();
  return Number(cursor);
}

async function resultRows(
  em: EntityManager,
  runId: string,
  after: number,
  verdict: Verdict | undefined,
  limit: number,
): Promise<ResultRow[]> {
  const params: unknown[] = [runId, after];
  if (verdict) params.push(verdict);
  params.push(limit);
  return em.getConnection().execute<ResultRow[]>(RESULTS_SQL(verdict !== undefined), params);
}

/** Results in dataset order (the order they were judged), optionally one verdict only; the cursor is opaque. */
export async function listResults(
  em: EntityManager,
  ref: DatasetRef,
  runId: string,
  page: { verdict?: Verdict | undefined; cursor?: string | undefined; limit: number },
): Promise<Page<ResultView>> {
  const after = decodeSeqCursor(page.cursor);
  await findRun(em, ref, runId);
  const rows = await resultRows(em, runId, after, page.verdict, page.limit + 1);
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items: items.map(resultView),
    nextCursor: rows.length > page.limit && last ? String(last.seq) : null,
  };
}

/**
 * Every result of a run (optionally one verdict), a page of the database at a time: memory stays flat however
 * large the run. The caller checks access first (`getRun`).
 */
export async function* streamResults(
  em: EntityManager,
  runId: string,
  verdict: Verdict | undefined,
  pageSize = 1000,
): AsyncGenerator<ResultView> {
  let after = 0;
  for (;;) {
    const rows = await resultRows(em, runId, after, verdict, pageSize);
    for (const row of rows) yield resultView(row);
    const last = rows[rows.length - 1];
    if (!last || rows.length < pageSize) return;
    after = Number(last.seq);
  }
}
