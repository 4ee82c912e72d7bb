import { CHECK_NAMES, PIPELINE_LIMITS, RUN_STATUSES, VERDICTS } from '@crowdee/core';
import { z } from 'zod';

const isoDate = z.string().describe('ISO 8601 date-time');
const findingVerdict = z.enum(['flag', 'fail']).describe('What the check yields when it triggers');
const bound = z.number().int().min(0).max(PIPELINE_LIMITS.maxBound);

/**
 * The shape of a pipeline definition, for OpenAPI and a first check; packages/core's `validatePipelineSpec` is the
 * rule (it also refuses min > max and terms that normalise to nothing), applied by the service.
 */
export const checkSpecSchema = z.discriminatedUnion('check', [
  z.strictObject({ check: z.literal('empty'), verdict: findingVerdict }),
  z.strictObject({
    check: z.literal('size'),
    min: bound.optional(),
    max: bound.optional(),
    verdict: findingVerdict,
  }),
  z.strictObject({
    check: z.literal('length'),
    min: bound.optional(),
    max: bound.optional(),
    verdict: findingVerdict,
  }),
  z.strictObject({
    check: z.literal('mediaType'),
    allowed: z
      .array(z.string().min(1).max(PIPELINE_LIMITS.maxMediaTypeLength))
      .min(1)
      .max(PIPELINE_LIMITS.maxMediaTypes),
    verdict: findingVerdict,
  }),
  z.strictObject({ check: z.literal('duplicate'), verdict: findingVerdict }),
  z.strictObject({ check: z.literal('nearDuplicate'), verdict: findingVerdict }),
  z.strictObject({
    check: z.literal('bannedTerms'),
    terms: z.array(z.string().min(1).max(PIPELINE_LIMITS.maxTermLength)).min(1).max(PIPELINE_LIMITS.maxTerms),
    verdict: findingVerdict,
  }),
  z.strictObject({ check: z.literal('controlCharacters'), verdict: findingVerdict }),
  z.strictObject({ check: z.literal('urls'), verdict: findingVerdict }),
]);

export const pipelineSpecSchema = z
  .strictObject({
    version: z.literal(1),
    checks: z.array(checkSpecSchema).min(1).max(PIPELINE_LIMITS.maxChecks),
  })
  .meta({
    id: 'PipelineSpec',
    description: `An ordered list of checks (${CHECK_NAMES.join(', ')}); an item's verdict is the worst any check yields`,
  });

export const verdictSchema = z.enum(VERDICTS);

export const reasonSchema = z.object({
  check: z.enum(CHECK_NAMES as [string, ...string[]]),
  verdict: findingVerdict,
  reason: z.string(),
});

export const runOut = z
  .object({
    id: z.uuid(),
    datasetId: z.uuid(),
    projectId: z.uuid(),
    status: z.enum(RUN_STATUSES),
    total: z.number().int().describe('Items the run covers (fixed when a worker starts it)'),
    processed: z.number().int().describe('Items judged so far'),
    counts: z.object({ pass: z.number().int(), flag: z.number().int(), fail: z.number().int() }),
    pipeline: pipelineSpecSchema,
    createdAt: isoDate,
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
  })
  .meta({ id: 'Run', description: 'A verification run over a dataset' });

export const orgRunOut = runOut
  .extend({ datasetName: z.string() })
  .meta({ id: 'OrgRun', description: 'A run with the name of its dataset' });

export const resultOut = z
  .object({
    itemId: z.uuid(),
    externalId: z.string(),
    verdict: verdictSchema,
    reasons: z.array(reasonSchema).describe('One entry per check that did not pass; empty for a pass'),
  })
  .meta({ id: 'RunResult', description: 'One item’s verdict in a run' });

export const cursorSchema = z.string().max(200).optional().describe('`nextCursor` of the previous page');
