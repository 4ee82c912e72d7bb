import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Dataset } from './dataset.entity.ts';
import { DatasetItem } from './dataset-item.entity.ts';
import { Organization } from './organization.entity.ts';
import { Project } from './project.entity.ts';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * One verification run over a dataset. `pipeline` is a snapshot of the definition used, so later changes to the
 * default never change what a finished run meant. `processed` and the verdict counts are written in the same
 * transaction as each chunk's results, so they always agree with the results table; `version` goes up on every
 * change and is the ETag a conditional poll compares.
 */
export const VerificationRun = defineEntity({
  name: 'VerificationRun',
  tableName: 'verification_runs',
  properties: {
    id: p.uuid().primary(),
    organization: () => p.manyToOne(Organization).deleteRule('cascade'),
    project: () => p.manyToOne(Project).deleteRule('cascade'),
    dataset: () => p.manyToOne(Dataset).deleteRule('cascade'),
    pipeline: p.json<unknown>(),
    status: p.enum([...RUN_STATUSES]),
    total: p.integer().default(0),
    processed: p.integer().default(0),
    passCount: p.integer().default(0),
    flagCount: p.integer().default(0),
    failCount: p.integer().default(0),
    /** Why a run failed (for operators; never shown to callers). */
    failure: p.string().length(500).nullable(),
    /** The user who started it (a plain id: the run outlives their account). */
    createdBy: p.uuid(),
    createdAt: p.datetime(),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    version: p.integer().default(1),
  },
  indexes: [
    { properties: ['dataset', 'createdAt', 'id'], name: 'verification_runs_dataset_time_idx' },
    { properties: ['organization', 'createdAt', 'id'], name: 'verification_runs_org_time_idx' },
  ],
});
export type VerificationRun = InferEntity<typeof VerificationRun>;

export const VERDICT_VALUES = ['pass', 'flag', 'fail'] as const;

/**
 * One item's result in one run: at most one, by the primary key (run, item), so a chunk retried after a worker was
 * killed can never judge an item twice. `seq` is the item's place in the run (dataset order), the results' cursor.
 * `exactKey`/`nearKey` are the item's duplicate keys: a later chunk asks which of its keys earlier results hold.
 */
export const VerificationResult = defineEntity({
  name: 'VerificationResult',
  tableName: 'verification_results',
  properties: {
    run: () => p.manyToOne(VerificationRun).primary().deleteRule('cascade'),
    item: () => p.manyToOne(DatasetItem).primary().deleteRule('cascade'),
    seq: p.integer(),
    verdict: p.enum([...VERDICT_VALUES]),
    reasons: p.json<unknown>(),
    exactKey: p.string().length(64),
    nearKey: p.string().length(64).nullable(),
  },
  uniques: [{ properties: ['run', 'seq'], name: 'verification_results_run_seq_unique' }],
  indexes: [
    { properties: ['run', 'verdict', 'seq'], name: 'verification_results_run_verdict_idx' },
    { properties: ['run', 'exactKey'], name: 'verification_results_run_exact_idx' },
    { properties: ['run', 'nearKey'], name: 'verification_results_run_near_idx' },
    // Deleting an item cascades to its results: without this, every delete scans the results table.
    { properties: ['item'], name: 'verification_results_item_idx' },
  ],
});
export type VerificationResult = InferEntity<typeof VerificationResult>;
