import { createHash } from 'node:crypto';
import { DomainError, FILES_PER_REQUEST_MAX, findInputProblem, INPUT_PROBLEM_MESSAGES } from '@crowdee/core';
import Busboy from 'busboy';
import type { Request, RequestHandler } from 'express';
import { getPathRegExp, normalizePath } from 'trpc-to-openapi';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { AppDeps } from '../context.ts';
import { actorOf } from '../context.ts';
import { resolvedProcedures } from '../rate-limit/index.ts';
import { UPLOAD_PATH } from '../routers/items.router.ts';
import { findDataset } from '../services/datasets.service.ts';
import { checkFile, fileTooLarge, tooManyFiles, uploadTooLarge } from '../services/item-uploads.ts';
import { addItems, type PreparedItem, prepareFile } from '../services/items.service.ts';
import { authorizeInOrganization } from '../trpc.ts';
import { setStreamedFingerprint } from './idempotency.middleware.ts';
import { createContextFromRequest } from './trpc-context.ts';

export const UPLOAD_PROCEDURE = 'items.upload';

const pathInput = z.object({
  orgId: z.uuid().overwrite((id) => id.toLowerCase()),
  projectId: z.uuid(),
  datasetId: z.uuid(),
});

/**
 * Header pairs of the request itself (busboy reads them for the boundary). A part's own header block is capped by
 * busboy at 16 KiB (beyond: "Malformed part header", a 400) and its pairs at 2,000, so no part header is unbounded.
 */
const HEADER_PAIRS_MAX = 20;
const FIELD_BYTES_MAX = 1024;
const EXTERNAL_ID_FIELD = /^externalId:(\d{1,3})$/;

const badForm = (message: string) => new DomainError('BAD_REQUEST', message);

interface ReceivedFile {
  index: number;
  fieldExternalId: string | undefined;
  name: string;
  mediaType: string;
  content: Buffer;
}

/**
 * Streams a multipart body through busboy: each file is held only until its part ends (at most `fileMaxBytes`),
 * the whole request at most `uploadMaxBytes`, and every limit answers as soon as it is crossed — a 101st file part,
 * a file one byte over, the request one byte over — without reading on. Also hashes the raw body for
 * `Idempotency-Key` comparisons.
 */
function readFiles(
  req: Request,
  limits: Config['items'],
): Promise<{ files: ReceivedFile[]; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    let parser: Busboy.Busboy;
    try {
      parser = Busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        preservePath: false,
        limits: {
          files: FILES_PER_REQUEST_MAX,
          // busboy signals 'limit' on reaching the limit exactly (it cannot tell whether more follows): one more
          // byte than allowed is what proves a file too large.
          fileSize: limits.fileMaxBytes + 1,
          fields: FILES_PER_REQUEST_MAX,
          fieldSize: FIELD_BYTES_MAX,
          parts: 2 * FILES_PER_REQUEST_MAX,
          headerPairs: HEADER_PAIRS_MAX,
        },
      });
    } catch {
      reject(
        new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the files as multipart/form-data with a boundary.'),
      );
      return;
    }
    const hash = createHash('sha256');
    const files: ReceivedFile[] = [];
    const externalIds = new Map<number, string>();
    let fileCount = 0;
    let total = 0;
    let failed = false;
    const fail = (error: DomainError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => {});
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      hash.update(chunk);
      if (total > limits.uploadMaxBytes) fail(uploadTooLarge(limits));
    });
    req.on('aborted', () => fail(badForm('The request was aborted.')));
    parser.on('field', (name, value, info) => {
      const match = EXTERNAL_ID_FIELD.exec(name);
      if (!match) {
        fail(
          badForm(
            'Unexpected form field: every part must be a file (with filename="…" in its Content-Disposition) or an externalId:<n> field.',
          ),
        );
        return;
      }
      const index = Number(match[1]);
      if (info.valueTruncated) return fail(badForm(`Field externalId:${index} is too long.`));
      if (index < fileCount || externalIds.has(index)) {
        return fail(badForm(`Field externalId:${index} must come once, before file part ${index}.`));
      }
      externalIds.set(index, value);
    });
    parser.on('file', (_field, stream, info) => {
      const index = fileCount++;
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => fail(fileTooLarge(limits, `files.${index}`)));
      stream.on('end', () => {
        if (failed) return;
        files.push({
          index,
          fieldExternalId: externalIds.get(index),
          name: info.filename ?? '',
          mediaType: info.mimeType,
          content: Buffer.concat(chunks, size),
        });
      });
    });
    parser.on('filesLimit', () => fail(tooManyFiles()));
    parser.on('fieldsLimit', () => fail(badForm(`At most ${FILES_PER_REQUEST_MAX} externalId fields.`)));
    parser.on('partsLimit', () => fail(tooManyFiles()));
    parser.on('error', (error: unknown) =>
      fail(
        badForm(`The multipart body could not be read${error instanceof Error ? `: ${error.message}` : ''}.`),
      ),
    );
    parser.on('close', () => {
      if (failed) return;
      for (const index of externalIds.keys()) {
        if (index >= fileCount) return fail(badForm(`Field externalId:${index} names no file part.`));
      }
      resolve({ files, fingerprint: hash.digest('hex') });
    });
    req.pipe(parser);
  });
}

function throwOnInputProblem(input: Record<string, unknown>, prefix: string): void {
  const problem = findInputProblem(input);
  if (!problem) return;
  const message = INPUT_PROBLEM_MESSAGES[problem.kind];
  throw new DomainError('VALIDATION_FAILED', `${prefix}${problem.path}: ${message}`, {
    fieldErrors: [{ path: `${prefix}${problem.path}`, message }],
  });
}

function prepare(files: ReceivedFile[], limits: Config['items']): PreparedItem[] {
  let total = 0;
  return files.map((file) => {
    const externalId = file.fieldExternalId ?? file.name;
    const path = `files.${file.index}`;
    total += file.content.length;
    throwOnInputProblem({ externalId, name: file.name, mediaType: file.mediaType }, `${path}.`);
    checkFile(limits, path, {
      externalId,
      name: file.name,
      mediaType: file.mediaType,
      size: file.content.length,
      total,
    });
    return prepareFile(externalId, file.name, file.mediaType, file.content);
  });
}

/**
 * `POST …/datasets/{datasetId}/files` on REST: the `items.upload` procedure's route, served here because the
 * adapter cannot stream multipart bodies. It runs where the adapter would (after authentication, the rate limit
 * and `Idempotency-Key`), answers only requests the call resolver matched to `items.upload` (so every spelling the
 * limiter charges as an upload lands here), checks the caller's permission and the dataset before reading a byte
 * of the body, and stores through the same service as tRPC.
 */
export function itemUploadRoute(deps: AppDeps): RequestHandler {
  const pattern = getPathRegExp(normalizePath(UPLOAD_PATH));
  return async (req, res, next) => {
    if (!resolvedProcedures(req).includes(UPLOAD_PROCEDURE)) return next();
    try {
      const pathname = normalizePath(new URL(req.url, 'http://127.0.0.1').pathname);
      const params = pattern.exec(pathname)?.groups ?? {};
      // The input boundary every procedure has, over what this route's input is assembled from before the body.
      throwOnInputProblem({ ...(req.query as Record<string, unknown>), ...params }, '');
      const parsed = pathInput.safeParse(params);
      if (!parsed.success) {
        throw new DomainError('VALIDATION_FAILED', undefined, {
          fieldErrors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      }
      if (!req.is('multipart/form-data')) {
        throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the files as multipart/form-data.');
      }
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        throw new DomainError(
          'UNSUPPORTED_MEDIA_TYPE',
          'Content-Encoding is not supported: send the body uncompressed.',
        );
      }
      const limits = deps.config.items;
      const declared = Number(req.headers['content-length'] ?? '0');
      if (declared > limits.uploadMaxBytes) throw uploadTooLarge(limits);
      const ctx = createContextFromRequest(deps, req, res);
      const ref = { ...parsed.data, orgId: parsed.data.orgId };
      await authorizeInOrganization(ctx, 'datasets:write', ref.orgId);
      await findDataset(ctx.em, ref);
      const { files, fingerprint } = await readFiles(req, limits);
      setStreamedFingerprint(req, fingerprint);
      if (files.length === 0) throw badForm('Send at least one file part.');
      const results = await addItems(deps, ctx.em, actorOf(ctx), ref, prepare(files, limits));
      res.status(200).json(results);
    } catch (error) {
      // The rest of an unread body is not worth reading: answer, then close the connection.
      if (!req.complete) res.setHeader('Connection', 'close');
      next(error);
    }
  };
}
