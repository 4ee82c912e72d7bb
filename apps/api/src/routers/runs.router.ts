import { runPollAfterSeconds } from '@crowdee/core';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import { runETag } from '../runs/run-etag.ts';
import {
  cancelRun,
  getRun,
  listOrgRuns,
  listResults,
  listRuns,
  startRun,
  streamResults,
} from '../services/runs.service.ts';
import { orgProcedure, router } from '../trpc.ts';
import {
  cursorSchema,
  orgRunOut,
  pipelineSpecSchema,
  resultOut,
  runOut,
  verdictSchema,
} from './runs.schemas.ts';
import { uuid } from './schemas.ts';

const tags = ['runs'];
const base = '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}/runs';
const datasetInput = { projectId: uuid, datasetId: uuid };
const runInput = { ...datasetInput, runId: uuid };
const limit = (max: number) => z.coerce.number().int().min(1).max(max).default(50);

function page<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({ items: z.array(item), nextCursor: z.string().nullable() })
    .meta({ id, description: 'One page; pass `nextCursor` back as `cursor` for the next (null at the end)' });
}

export const runsRouter = router({
  start: orgProcedure('runs:write')
    .meta({
      openapi: {
        method: 'POST',
        path: base,
        protect: true,
        tags,
        summary: 'Start a verification run',
        successDescription: 'The queued run (202 Accepted): poll it with GET until it is finished',
        description:
          'Needs the member role or higher. Queues a run of `pipeline` (`"default"`, or a PipelineSpec) over the ' +
          'dataset’s items as they are now; workers judge it in chunks. An invalid pipeline answers 400 with field errors.',
      },
    })
    .input(
      z.object({ ...datasetInput, pipeline: z.union([z.literal('default'), pipelineSpecSchema]).optional() }),
    )
    .output(runOut)
    .mutation(({ ctx, input }) =>
      startRun(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        { orgId: ctx.org.id, projectId: input.projectId, datasetId: input.datasetId },
        input.pipeline,
      ),
    ),

  list: orgProcedure('runs:read')
    .meta({
      openapi: {
        method: 'GET',
        path: base,
        protect: true,
        tags,
        summary: 'List a dataset’s runs',
        description: 'Newest first, a page at a time (`cursor`, `limit` ≤ 100).',
      },
    })
    .input(z.object({ ...datasetInput, cursor: cursorSchema, limit: limit(100) }))
    .output(page(runOut, 'RunPage'))
    .query(({ ctx, input }) =>
      listRuns(ctx.em, { orgId: ctx.org.id, projectId: input.projectId, datasetId: input.datasetId }, input),
    ),

  get: orgProcedure('runs:read')
    .meta({
      openapi: {
        method: 'GET',
        path: `${base}/{runId}`,
        protect: true,
        tags,
        summary: 'Get a run',
        description:
          'Carries an `ETag`; send it back as `If-None-Match` and an unchanged run answers `304 Not Modified`, which ' +
          'costs no rate-limit unit (the key must still be valid and able to read the run). While the run is queued ' +
          'or running, `Retry-After` says how many seconds to wait before polling again.',
      },
    })
    .input(z.object(runInput))
    .output(runOut)
    .query(async ({ ctx, input }) => {
      const { version, ...run } = await getRun(
        ctx.em,
        { orgId: ctx.org.id, projectId: input.projectId, datasetId: input.datasetId },
        input.runId,
      );
      ctx.setResponseHeader?.('ETag', runETag(version));
      const after = runPollAfterSeconds(run.status);
      if (after !== null) ctx.setResponseHeader?.('Retry-After', String(after));
      return run;
    }),

  cancel: orgProcedure('runs:write')
    .meta({
      openapi: {
        method: 'POST',
        path: `${base}/{runId}/cancel`,
        protect: true,
        tags,
        summary: 'Cancel a run',
        description:
          'Needs the member role or higher. A queued or running run becomes `cancelled`; its worker stops before the ' +
          'next chunk, and results already written stay. Cancelling a cancelled run answers it again; a finished one ' +
          'answers 409.',
      },
    })
    .input(z.object(runInput))
    .output(runOut)
    .mutation(({ ctx, input }) =>
      cancelRun(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        { orgId: ctx.org.id, projectId: input.projectId, datasetId: input.datasetId },
        input.runId,
      ),
    ),

  results: orgProcedure('runs:read')
    .meta({
      openapi: {
        method: 'GET',
        path: `${base}/{runId}/results`,
        protect: true,
        tags,
        summary: 'List a run’s results',
        description:
          'In dataset order, optionally one `verdict` only, a page at a time (`cursor`, `limit` ≤ 1,000). ' +
          'For everything at once, use the JSONL export.',
      },
    })
    .input(
      z.object({ ...runInput, verdict: verdictSchema.optional(), cursor: cursorSchema, limit: limit(1000) }),
    )
    .output(page(resultOut, 'RunResultPage'))
    .query(({ ctx, input }) =>
      listResults(
        ctx.em,
        { orgId: ctx.org.id, projectId: input.projectId, datasetId: input.datasetId },
        input.runId,
        input,
      ),
    ),

  exportResults: orgProcedure('runs:read')
    .meta({
      openapi: {
        method: 'GET',
        path: `${base}/{runId}/results.jsonl`,
        protect: true,
        tags,
        summary: 'Export a run’s results as JSONL',
        description:
          'Every result (optionally one `verdict` only) as `application/x-ndjson`: one RunResult JSON object per ' +
          'line, in dataset order, streamed as it is read. Over tRPC the same lines come back as one string.',
      },
    })
    .input(z.object({ ...runInput, verdict: verdictSchema.optional() }))
    .output(z.string().describe('Newline-delimited JSON: one RunResult per line'))
    .query(async ({ ctx, input }) => {
      await getRun(
        ctx.em,
        { orgId: ctx.org.id, projectId: input.projectId, datasetId: input.datasetId },
        input.runId,
      );
      let text = '';
      for await (const result of streamResults(ctx.em, input.runId, input.verdict))
        text += `${JSON.stringify(result)}\n`;
      return text;
    }),

  listForOrg: orgProcedure('runs:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/orgs/{orgId}/runs',
        protect: true,
        tags,
        summary: 'List an organization’s recent runs',
        description:
          'Every dataset’s runs in the organization, newest first, a page at a time (`cursor`, `limit` ≤ 100).',
      },
    })
    .input(z.object({ cursor: cursorSchema, limit: limit(100) }))
    .output(page(orgRunOut, 'OrgRunPage'))
    .query(({ ctx, input }) => listOrgRuns(ctx.em, ctx.org.id, input)),
});
