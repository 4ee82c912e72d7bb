import {
  DomainError,
  EXTERNAL_ID_MESSAGES,
  externalIdProblem,
  FILES_PER_REQUEST_MAX,
  fileNameProblem,
  mediaTypeProblem,
} from '@crowdee/core';
import type { Config } from '../config.ts';

/** The checks one uploaded file must pass, whichever transport brought it (multipart REST or base64 tRPC). */
export function checkFile(
  limits: Config['items'],
  path: string,
  file: { externalId: string; name: string; mediaType: string; size: number; total: number },
): void {
  if (file.size > limits.fileMaxBytes) throw fileTooLarge(limits, path);
  if (file.total > limits.uploadMaxBytes) throw uploadTooLarge(limits);
  const invalid = (field: string, message: string) =>
    new DomainError('VALIDATION_FAILED', `${path}.${field}: ${message}`, {
      fieldErrors: [{ path: `${path}.${field}`, message }],
    });
  const name = fileNameProblem(file.name);
  if (name) throw invalid('name', name);
  const id = externalIdProblem(file.externalId);
  if (id) throw invalid('externalId', EXTERNAL_ID_MESSAGES[id]);
  const type = mediaTypeProblem(file.mediaType);
  if (type) throw invalid('mediaType', type);
}

export const fileTooLarge = (limits: Config['items'], path: string) =>
  new DomainError('PAYLOAD_TOO_LARGE', `${path}: a file may hold at most ${limits.fileMaxBytes} bytes.`);

export const uploadTooLarge = (limits: Config['items']) =>
  new DomainError(
    'PAYLOAD_TOO_LARGE',
    `An upload request may hold at most ${limits.uploadMaxBytes} bytes: split it into smaller batches.`,
  );

export const tooManyFiles = () =>
  new DomainError(
    'PAYLOAD_TOO_LARGE',
    `At most ${FILES_PER_REQUEST_MAX} files per request: split the upload into batches.`,
  );
