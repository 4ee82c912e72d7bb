import { DATASET_NAME_MAX_LENGTH, PAGE_DEFAULT } from '@crowdee/core';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import {
  createDataset,
  deleteDataset,
  getDataset,
  getDatasetInOrg,
  listDatasets,
} from '../services/datasets.service.ts';
import { orgProcedure, router } from '../trpc.ts';
import { cursorInput, datasetOut, nameSchema, okOut, uuid } from './schemas.ts';

const tags = ['datasets'];
const BASE = '/orgs/{orgId}/projects/{projectId}/datasets';

export const datasetsRouter = router({
  create: orgProcedure('datasets:write')
    .meta({
      openapi: {
        method: 'POST',
        path: BASE,
        protect: true,
        tags,
        summary: 'Create a dataset',
        successDescription: 'The new dataset',
        description:
          'Needs the member role or higher. Names are unique within a project (409 CONFLICT otherwise). Another organization’s project answers 404.',
      },
    })
    .input(
      z.object({
        projectId: uuid,
        name: nameSchema(DATASET_NAME_MAX_LENGTH),
        description: z.string().trim().max(2000).nullable().optional(),
      }),
    )
    .output(datasetOut)
    .mutation(({ ctx, input }) =>
      createDataset(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        { orgId: ctx.org.id, projectId: input.projectId },
        { name: input.name, description: input.description },
      ),
    ),

  list: orgProcedure('datasets:read')
    .meta({
      openapi: {
        method: 'GET',
        path: BASE,
        protect: true,
        tags,
        summary: 'List datasets',
        description: `The project’s datasets, oldest first, a page at a time: \`limit\` (default ${PAGE_DEFAULT}, at most 100) and \`cursor\` (the previous page’s \`nextCursor\`; null on the last page). A cursor this API did not give out answers 400.`,
      },
    })
    .input(
      z.object({
        projectId: uuid,
        limit: z.number().int().min(1).max(100).default(PAGE_DEFAULT),
        cursor: cursorInput,
      }),
    )
    .output(
      z
        .object({ items: z.array(datasetOut), nextCursor: z.string().nullable() })
        .meta({ id: 'DatasetPage', description: 'One page of datasets' }),
    )
    .query(({ ctx, input }) =>
      listDatasets(ctx.em, { orgId: ctx.org.id, projectId: input.projectId }, input),
    ),

  get: orgProcedure('datasets:read')
    .meta({
      openapi: {
        method: 'GET',
        path: `${BASE}/{datasetId}`,
        protect: true,
        tags,
        summary: 'Get a dataset',
        description: 'Another organization’s dataset answers 404, exactly like a missing one.',
      },
    })
    .input(z.object({ projectId: uuid, datasetId: uuid }))
    .output(datasetOut)
    .query(({ ctx, input }) =>
      getDataset(ctx.em, { orgId: ctx.org.id, projectId: input.projectId, datasetId: input.datasetId }),
    ),

  find: orgProcedure('datasets:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/orgs/{orgId}/datasets/{datasetId}',
        protect: true,
        tags,
        summary: 'Find a dataset by id',
        description:
          'The dataset with this id in the organization, whichever project holds it (its `projectId` names the project): for scripts that were given a dataset id alone.',
      },
    })
    .input(z.object({ datasetId: uuid }))
    .output(datasetOut)
    .query(({ ctx, input }) => getDatasetInOrg(ctx.em, ctx.org.id, input.datasetId)),

  delete: orgProcedure('datasets:delete')
    .meta({
      openapi: {
        method: 'DELETE',
        path: `${BASE}/{datasetId}`,
        protect: true,
        tags,
        summary: 'Delete a dataset',
        description:
          'Needs the admin role or higher. Deletes the dataset with all its items and runs; recorded in the audit log.',
      },
    })
    .input(z.object({ projectId: uuid, datasetId: uuid }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await deleteDataset(ctx.deps, ctx.em, actorOf(ctx), {
        orgId: ctx.org.id,
        projectId: input.projectId,
        datasetId: input.datasetId,
      });
      return { ok: true as const };
    }),
});
