/**
 * `crowdee items upload --dataset ID DIR|FILE.jsonl`: batches through the throttle, resumable, stoppable.
 *
 * Resuming is by externalId: the dataset's ids are listed first and whatever is already there is skipped, so the
 * same command run again after Ctrl-C (or a crash) uploads only the rest. Each batch carries its own
 * `Idempotency-Key`, so a batch retried after a timeout is answered from the server's record, never stored twice.
 */
import { readFile } from 'node:fs/promises';
import type { CrowdeeClient } from '../client.ts';
import { CrowdeeApiError } from '../errors.ts';
import type { DatasetRef } from '../rest.ts';
import type { ItemResult, UploadSummary } from '../rest-types.ts';
import { runBulk, ThrottleError } from '../throttle/index.ts';
import { EXIT_INTERRUPTED, out, shellQuote } from './common.ts';
import { ProgressDisplay } from './progress.ts';
import {
  batchEntries,
  type FileEntry,
  type TextEntry,
  type UploadEntry,
  type UploadSource,
} from './upload-source.ts';

/** The API's per-request limits (contract of issue #14). */
export const FILES_PER_BATCH_MAX = 100;
export const TEXTS_PER_BATCH_MAX = 1000;

export interface UploadOptions {
  batchSize: number;
  /** Bytes of content per request, past its first item. */
  batchBytes: number;
  /** Batches in flight at once (the throttle still decides the pace). */
  concurrency: number;
  json: boolean;
  /** The command line to print for resuming. */
  argv: string[];
}

interface Failure {
  externalId?: string;
  line?: number;
  code: string;
  message: string;
}

function errorCode(error: unknown): string {
  if (error instanceof CrowdeeApiError || error instanceof ThrottleError) return error.code;
  return 'ERROR';
}

async function sendBatch(
  client: CrowdeeClient,
  ref: DatasetRef,
  batch: UploadEntry[],
): Promise<UploadSummary> {
  if (batch[0]?.kind === 'text') {
    const texts = batch as TextEntry[];
    return client.rest.items.addText(
      ref,
      texts.map((t) => ({ externalId: t.externalId, text: t.text })),
    );
  }
  const files = await Promise.all(
    (batch as FileEntry[]).map(async (f) => ({
      name: f.name,
      externalId: f.externalId,
      mediaType: f.mediaType,
      content: await readFile(f.path),
    })),
  );
  // No abort signal on purpose: Ctrl-C lets batches already on the wire finish, so their outcome is known.
  return client.rest.items.uploadFiles(ref, files);
}

export async function uploadItems(
  client: CrowdeeClient,
  ref: DatasetRef,
  source: UploadSource,
  options: UploadOptions,
): Promise<number> {
  const startedAt = performance.now();
  const existing = await client.rest.items.listExternalIds(ref);
  const pending = source.entries.filter((e) => !existing.has(e.externalId));
  const skipped = source.entries.length - pending.length;
  const maxItems = Math.min(
    options.batchSize,
    source.kind === 'files' ? FILES_PER_BATCH_MAX : TEXTS_PER_BATCH_MAX,
  );
  const batches = batchEntries(pending, maxItems, options.batchBytes);
  const total = source.entries.length + source.invalid.length;

  const failures: Failure[] = source.invalid.map((l) => ({
    line: l.line,
    code: 'INVALID_LINE',
    message: l.problem,
  }));
  let created = 0;
  let alreadyThere = 0;
  let finishedItems = 0;
  const progress = new ProgressDisplay('items');
  const show = () =>
    progress.update({
      done: skipped + source.invalid.length + finishedItems,
      total,
      failed: failures.length,
      pausedUntil: client.throttle?.stats().pausedUntil,
    });
  show();

  const stop = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
    stop.abort();
    process.stderr.write('\nStopping after the batches in flight… (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  const record = (results: ItemResult[]) => {
    for (const r of results) {
      if (r.status === 'created') created++;
      else if (r.status === 'exists') alreadyThere++;
      else
        failures.push({
          externalId: r.externalId,
          code: r.error?.code ?? 'REJECTED',
          message: r.error?.message ?? 'rejected',
        });
    }
  };
  let summary: Awaited<ReturnType<typeof runBulk<UploadEntry[]>>>;
  try {
    summary = await runBulk(
      batches,
      async (batch) => {
        try {
          record((await sendBatch(client, ref, batch)).results);
        } catch (error) {
          // A refused batch (413, 415, retries exhausted…) fails its items; the other batches go on.
          const message = error instanceof Error ? error.message : String(error);
          for (const e of batch) failures.push({ externalId: e.externalId, code: errorCode(error), message });
          throw error;
        } finally {
          finishedItems += batch.length;
          show();
        }
      },
      { concurrency: options.concurrency, signal: stop.signal },
    );
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
  }

  const notUploaded = pending.length - finishedItems;
  const interrupted = summary.aborted && notUploaded > 0;
  const seconds = (performance.now() - startedAt) / 1000;
  const stats = client.throttle?.stats();
  const resume = `crowdee ${options.argv.map(shellQuote).join(' ')}`;
  const result = {
    datasetId: ref.datasetId,
    total,
    created,
    existing: alreadyThere,
    skipped,
    failed: failures.length,
    notUploaded,
    interrupted,
    batches: batches.length - summary.notStarted,
    seconds: Number(seconds.toFixed(2)),
    ratePerSecond: Number(((created + alreadyThere) / Math.max(seconds, 0.001)).toFixed(2)),
    requests: stats?.sent ?? 0,
    rateLimited: stats?.rateLimited ?? 0,
    retries: stats?.retries ?? 0,
    failures: failures.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    ...(interrupted ? { resume } : {}),
  };
  const human = [
    `${interrupted ? 'Interrupted' : 'Done'}: ${created} uploaded, ${skipped} skipped (already in the dataset), ${alreadyThere} already there (same content), ${failures.length} failed${interrupted ? `, ${notUploaded} not uploaded yet` : ''} — of ${total} in ${seconds.toFixed(1)} s (${result.ratePerSecond} items/s).`,
    `Requests: ${result.requests} in ${result.batches} batch(es), answered 429: ${result.rateLimited}, retried: ${result.retries}.`,
    ...(failures.length > 0
      ? [
          `${failures.length} failed:`,
          ...failures
            .slice(0, 50)
            .map(
              (f) => `  ${f.line !== undefined ? `line ${f.line}` : f.externalId}: ${f.code} ${f.message}`,
            ),
          ...(failures.length > 50 ? [`  … and ${failures.length - 50} more (--json lists all)`] : []),
        ]
      : []),
    ...(interrupted ? ['Resume with:', `  ${resume}`] : []),
  ].join('\n');
  out(options.json, human, result);
  if (interrupted) return EXIT_INTERRUPTED;
  return failures.length > 0 ? 1 : 0;
}
