import {
  DomainError,
  FILES_PER_REQUEST_MAX,
  ITEM_ID_PAGE_MAX,
  ITEM_PAGE_MAX,
  ITEM_TEXT_MAX_BYTES,
  PAGE_DEFAULT,
  TEXT_ITEMS_PER_REQUEST_MAX,
  utf8Length,
} from '@crowdee/core';
import { z } from 'zod';
import { actorOf } from '../context.ts';
import { checkFile, tooManyFiles } from '../services/item-uploads.ts';
import {
  addItems,
  deleteItem,
  getItem,
  listItems,
  prepareFile,
  prepareText,
} from '../services/items.service.ts';
import { orgProcedure, router } from '../trpc.ts';
import {
  batchResultsOut,
  cursorInput,
  externalIdSchema,
  itemIdOut,
  itemOut,
  okOut,
  uuid,
} from './schemas.ts';

const tags = ['items'];
const DATASET = '/orgs/{orgId}/projects/{projectId}/datasets/{datasetId}';
/** Served by the multipart Express route on REST (`http/item-upload.route.ts`); by this procedure on tRPC. */
export const UPLOAD_PATH = `${DATASET}/files`;
const datasetInput = { projectId: uuid, datasetId: uuid };

export const RESULTS_DESCRIPTION =
  'Answers 200 with one result per item, in request order: `created` (stored now, with its `itemId`), `exists` (the same bytes are already stored under this `externalId` — a retry is always safe) or `rejected` with `error.code` CONFLICT (other bytes are stored under this `externalId`; nothing is overwritten). A batch is not all-or-nothing at the item level: items are judged one by one, in one transaction. Problems of the whole request refuse the whole batch and store nothing: invalid input 400, too many items or too large 413, wrong content type 415. Uploads into one dataset may run concurrently: each `externalId` is created once.';

const tooLargeText = (index: number) =>
  new DomainError(
    'PAYLOAD_TOO_LARGE',
    `items.${index}.text: a text item holds at most ${ITEM_TEXT_MAX_BYTES} bytes of UTF-8.`,
  );

export const itemsRouter = router({
  add: orgProcedure('datasets:write')
    .meta({
      openapi: {
        method: 'POST',
        path: `${DATASET}/items`,
        protect: true,
        tags,
        summary: 'Add text items',
        description: `Adds up to ${TEXT_ITEMS_PER_REQUEST_MAX.toLocaleString('en')} text items (each at most 64 KiB of UTF-8) in one JSON request; needs the member role or higher. The body may be larger than other routes’ (ITEM_BATCH_BODY_MAX_BYTES, 16 MiB by default). ${RESULTS_DESCRIPTION} One request costs one rate-limit unit whatever it holds, so batching saves budget.`,
      },
    })
    .input(
      z.object({
        ...datasetInput,
        items: z
          .array(z.object({ externalId: externalIdSchema, text: z.string() }))
          .describe(`At most ${TEXT_ITEMS_PER_REQUEST_MAX} items (413 above)`),
      }),
    )
    .output(batchResultsOut)
    .mutation(({ ctx, input }) => {
      if (input.items.length > TEXT_ITEMS_PER_REQUEST_MAX) {
        throw new DomainError(
          'PAYLOAD_TOO_LARGE',
          `At most ${TEXT_ITEMS_PER_REQUEST_MAX} items per request: split the batch.`,
        );
      }
      const prepared = input.items.map((item, index) => {
        if (utf8Length(item.text) > ITEM_TEXT_MAX_BYTES) throw tooLargeText(index);
        return prepareText(item.externalId, item.text);
      });
      return addItems(ctx.deps, ctx.em, actorOf(ctx), { orgId: ctx.org.id, ...pick(input) }, prepared);
    }),

  upload: orgProcedure('datasets:write')
    .meta({
      openapi: {
        method: 'POST',
        path: UPLOAD_PATH,
        protect: true,
        tags,
        summary: 'Upload files',
        description: `Uploads up to ${FILES_PER_REQUEST_MAX} files as \`multipart/form-data\`; needs the member role or higher. Each file part’s \`filename\` is the item’s name and, by default, its \`externalId\`; a text field named \`externalId:<n>\` sent before the n-th file part (counting file parts from 0) sets that file’s \`externalId\` instead. The media type is the part’s Content-Type (RFC 7578 default: text/plain). Each file may hold ITEM_FILE_MAX_BYTES (10 MiB by default) and the whole request ITEM_UPLOAD_MAX_BYTES (64 MiB by default); larger answers 413 as soon as the limit is crossed, like a 101st file part. Other fields, a part without a filename, or a field after its file answer 400. ${RESULTS_DESCRIPTION} One request costs one rate-limit unit whatever it holds. (Over tRPC, \`items.upload\` takes the same files as JSON with base64 content.)`,
      },
    })
    .input(
      z.object({
        ...datasetInput,
        files: z
          .array(
            z.object({
              externalId: externalIdSchema.optional(),
              name: z.string().max(1000),
              mediaType: z.string().max(1000),
              contentBase64: z.base64(),
            }),
          )
          .describe(`At most ${FILES_PER_REQUEST_MAX} files (413 above)`),
      }),
    )
    .output(batchResultsOut)
    .mutation(({ ctx, input }) => {
      if (input.files.length > FILES_PER_REQUEST_MAX) throw tooManyFiles();
      const limits = ctx.deps.config.items;
      let total = 0;
      const prepared = input.files.map((file, index) => {
        const content = Buffer.from(file.contentBase64, 'base64');
        total += content.length;
        const externalId = file.externalId ?? file.name;
        checkFile(limits, `files.${index}`, {
          externalId,
          name: file.name,
          mediaType: file.mediaType,
          size: content.length,
          total,
        });
        return prepareFile(externalId, file.name, file.mediaType, content);
      });
      return addItems(ctx.deps, ctx.em, actorOf(ctx), { orgId: ctx.org.id, ...pick(input) }, prepared);
    }),

  list: orgProcedure('datasets:read')
    .meta({
      openapi: {
        method: 'GET',
        path: `${DATASET}/items`,
        protect: true,
        tags,
        summary: 'List items',
        description: `The dataset’s items, oldest first, a page at a time: \`limit\` (default ${PAGE_DEFAULT}, at most ${ITEM_PAGE_MAX}; at most ${ITEM_ID_PAGE_MAX} with \`fields=externalId\`, which answers only \`id\` and \`externalId\` — what a resuming upload needs) and \`cursor\` (the previous page’s \`nextCursor\`; null on the last page). A cursor this API did not give out answers 400.`,
      },
    })
    .input(
      z.object({
        ...datasetInput,
        limit: z.number().int().min(1).max(ITEM_ID_PAGE_MAX).default(PAGE_DEFAULT),
        cursor: cursorInput,
        fields: z.enum(['all', 'externalId']).default('all'),
      }),
    )
    .output(
      z
        .object({ items: z.array(z.union([itemOut, itemIdOut])), nextCursor: z.string().nullable() })
        .meta({ id: 'DatasetItemPage', description: 'One page of items' }),
    )
    .query(({ ctx, input }) => {
      if (input.fields === 'all' && input.limit > ITEM_PAGE_MAX) {
        throw new DomainError('VALIDATION_FAILED', undefined, {
          fieldErrors: [
            {
              path: 'limit',
              message: `At most ${ITEM_PAGE_MAX} (or ${ITEM_ID_PAGE_MAX} with fields=externalId).`,
            },
          ],
        });
      }
      return listItems(ctx.em, { orgId: ctx.org.id, ...pick(input) }, input);
    }),

  get: orgProcedure('datasets:read')
    .meta({
      openapi: {
        method: 'GET',
        path: `${DATASET}/items/{itemId}`,
        protect: true,
        tags,
        summary: 'Get an item',
        description:
          'The item’s description, with its text for a text item (a file’s bytes are not returned). Another organization’s item answers 404, exactly like a missing one.',
      },
    })
    .input(z.object({ ...datasetInput, itemId: uuid }))
    .output(itemOut.extend({ text: z.string().nullable() }).meta({ id: 'DatasetItemDetail' }))
    .query(({ ctx, input }) => getItem(ctx.em, { orgId: ctx.org.id, ...pick(input) }, input.itemId)),

  delete: orgProcedure('datasets:delete')
    .meta({
      openapi: {
        method: 'DELETE',
        path: `${DATASET}/items/{itemId}`,
        protect: true,
        tags,
        summary: 'Delete an item',
        description: 'Needs the admin role or higher; recorded in the audit log.',
      },
    })
    .input(z.object({ ...datasetInput, itemId: uuid }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await deleteItem(ctx.deps, ctx.em, actorOf(ctx), { orgId: ctx.org.id, ...pick(input) }, input.itemId);
      return { ok: true as const };
    }),
});

function pick(input: { projectId: string; datasetId: string }): { projectId: string; datasetId: string } {
  return { projectId: input.projectId, datasetId: input.datasetId };
}
