/** `crowdee runs start|get|results`: verification runs over a dataset. */
import { once } from 'node:events';
import type { CrowdeeClient } from '../client.ts';
import type { DatasetRef } from '../rest.ts';
import type { Run, Verdict } from '../rest-types.ts';
import { EXIT_INTERRUPTED, out, UsageError } from './common.ts';
import { csvRow } from './csv.ts';
import { ProgressDisplay } from './progress.ts';

const VERDICTS: readonly Verdict[] = ['pass', 'flag', 'fail'];

function describeRun(run: Run): string {
  const c = run.counts;
  return `Run ${run.id} ${run.status}: ${run.processed}/${run.total} judged — ${c.pass} pass, ${c.flag} flag, ${c.fail} fail.`;
}

/** Exit code for a finished run: only a run that succeeded is a success. */
function runExitCode(run: Run): number {
  return run.status === 'succeeded' ? 0 : 1;
}

export async function startRun(
  client: CrowdeeClient,
  ref: DatasetRef,
  wait: boolean,
  json: boolean,
): Promise<number> {
  const run = await client.rest.runs.start(ref);
  if (!wait) {
    out(
      json,
      `${describeRun(run)}\nFollow it with: crowdee runs get ${run.id} --dataset ${ref.datasetId}`,
      run,
    );
    return 0;
  }
  process.stderr.write(`Started run ${run.id} over ${run.total} item(s).\n`);
  return waitForRun(client, ref, run.id, json);
}

export async function waitForRun(
  client: CrowdeeClient,
  ref: DatasetRef,
  runId: string,
  json: boolean,
): Promise<number> {
  const progress = new ProgressDisplay('judged');
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.on('SIGINT', onSigint);
  let last: Run | undefined;
  try {
    const run = await client.rest.runs.wait(ref, runId, {
      signal: stop.signal,
      onProgress: (r) => {
        last = r;
        progress.update({ done: r.processed, total: r.total, failed: 0 });
      },
    });
    progress.stop();
    out(json, describeRun(run), run);
    return runExitCode(run);
  } catch (error) {
    progress.stop();
    if (!stop.signal.aborted) throw error;
    // Ctrl-C stops the waiting, not the run: it goes on on the server.
    process.stderr.write(
      `Stopped waiting; the run goes on. ${last ? describeRun(last) : ''}\nFollow it with: crowdee runs get ${runId} --dataset ${ref.datasetId} --wait\n`,
    );
    return EXIT_INTERRUPTED;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function getRun(
  client: CrowdeeClient,
  ref: DatasetRef,
  runId: string,
  json: boolean,
): Promise<number> {
  const run = await client.rest.runs.get(ref, runId);
  out(json, describeRun(run), run);
  return 0;
}

async function write(text: string): Promise<void> {
  // Honour back-pressure: a slow reader (a pipe to gzip, a full disk) must not make us buffer the whole export.
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

/** Streams the results to stdout as JSON Lines or CSV, one line per item, with a count on stderr at the end. */
export async function exportResults(
  client: CrowdeeClient,
  ref: DatasetRef,
  runId: string,
  format: string | undefined,
  verdict: string | undefined,
): Promise<number> {
  const fmt = format ?? 'jsonl';
  if (fmt !== 'jsonl' && fmt !== 'csv') throw new UsageError('--format must be jsonl or csv');
  if (verdict !== undefined && !VERDICTS.includes(verdict as Verdict))
    throw new UsageError('--verdict must be pass, flag or fail');
  const filter = verdict === undefined ? {} : { verdict: verdict as Verdict };
  if (fmt === 'csv') await write(csvRow(['externalId', 'itemId', 'verdict', 'reasons']));
  let count = 0;
  for await (const result of client.rest.runs.exportJsonl(ref, runId, filter)) {
    count++;
    await write(
      fmt === 'csv'
        ? csvRow([
            result.externalId,
            result.itemId,
            result.verdict,
            result.reasons.map((r) => `${r.check} (${r.verdict}): ${r.reason}`).join('; '),
          ])
        : `${JSON.stringify(result)}\n`,
    );
  }
  process.stderr.write(`${count} result(s) of run ${runId}.\n`);
  return 0;
}
