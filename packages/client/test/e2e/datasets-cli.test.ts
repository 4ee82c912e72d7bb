/**
 * The bulk commands end to end: the real API (rate limits on) and the built `crowdee` in its own process.
 * A folder of FILES files goes up in ≥ 20 batches, the upload is stopped with SIGINT once its progress shows
 * half of them (a count in its output, never a time), the printed resume command finishes it, and the dataset
 * then holds exactly FILES items, each once. Then a run over them, and its results in both formats.
 * The full-size version (10,000 files against `pnpm start`) is `pnpm --filter @crowdee/client e2e:bulk`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countVerdicts, judgeDataset, type PipelineItem } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run, RunResult } from '../../src/rest-types.ts';
import { type Api, ensureCliBuilt, runCli, seed, spawnCli, startApi } from './helpers.ts';

const ODD_NAMES = ['odd, name.txt', 'say "hi".txt', '=1+1.txt'];
const FILES = 1000 + ODD_NAMES.length;
const BATCH = 50;

let api: Api;
let fixture: Awaited<ReturnType<typeof seed>>;
let env: Record<string, string>;
let projectId: string;
let datasetId: string;
const dir = mkdtempSync(join(tmpdir(), 'crowdee-datasets-'));
const folder = join(dir, 'files');

/** File i's name and content: some empty, some duplicates, some with a URL, so a run has every verdict. */
function fileOf(i: number): { path: string; content: string } {
  const sub = i % 10 === 0 ? 'nested/' : '';
  const content =
    i % 97 === 0
      ? ''
      : i % 50 === 1
        ? 'the same text twice'
        : i % 31 === 0
          ? `see https://example.com/${i}`
          : `item ${i}`;
  return { path: `${sub}file-${String(i).padStart(5, '0')}.txt`, content };
}

beforeAll(async () => {
  await ensureCliBuilt();
  api = await startApi({ quota: 1000, windowSeconds: 60 }, undefined, { workers: true });
  fixture = await seed(api, 'member');
  env = { CROWDEE_API_KEY: fixture.key, CROWDEE_API_URL: api.server.url };
  projectId = (await fixture.call<{ id: string }>('projects.create', { orgId: fixture.orgId, name: 'Bulk' }))
    .id;
  mkdirSync(join(folder, 'nested'), { recursive: true });
  for (let i = 0; i < FILES - ODD_NAMES.length; i++) {
    const f = fileOf(i);
    writeFileSync(join(folder, f.path), f.content);
  }
  // Names a CSV must quote or guard: a comma, a double quote, a leading "=".
  for (const name of ODD_NAMES) writeFileSync(join(folder, name), name);
});
afterAll(async () => {
  await api?.close();
});

interface UploadJson {
  total: number;
  created: number;
  existing: number;
  skipped: number;
  failed: number;
  notUploaded: number;
  interrupted: boolean;
  batches: number;
  resume?: string;
}

describe('crowdee datasets and items, end to end', () => {
  it('creates a dataset in the only organization the key reaches', async () => {
    const r = await runCli(['datasets', 'create', '--project', projectId, 'Crawl 1', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const dataset = JSON.parse(r.stdout) as {
      id: string;
      name: string;
      projectId: string;
      itemCount: number;
    };
    expect(dataset).toMatchObject({ name: 'Crawl 1', projectId, itemCount: 0 });
    datasetId = dataset.id;
    const again = await runCli(['datasets', 'create', '--project', projectId, 'Crawl 1'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409 CONFLICT/);
  });

  it(`uploads ${FILES} files in batches, stops cleanly on SIGINT halfway, and the resume command finishes with exactly ${FILES}`, async () => {
    const args = [
      'items',
      'upload',
      '--dataset',
      datasetId,
      folder,
      '--batch-size',
      String(BATCH),
      '--concurrency',
      '1',
      '--json',
    ];
    let signalled = false;
    const first = await spawnCli(args, env, (line, child) => {
      const seen = /^items (\d+)\/(\d+)/.exec(line);
      if (!signalled && seen && Number(seen[1]) >= FILES / 2) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    expect(signalled, first.stderr).toBe(true);
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('Stopping after the batches in flight');
    const stopped = JSON.parse(first.stdout) as UploadJson;
    expect(stopped.interrupted).toBe(true);
    expect(stopped.failed).toBe(0);
    expect(stopped.created).toBeGreaterThanOrEqual(FILES / 2);
    expect(stopped.created + stopped.notUploaded).toBe(FILES);
    // What it printed to resume is the same command: the CLI skips what is there.
    expect(stopped.resume).toBe(`crowdee ${args.join(' ')}`);

    const resumed = await runCli(args, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = JSON.parse(resumed.stdout) as UploadJson;
    expect(done).toMatchObject({ interrupted: false, failed: 0, skipped: stopped.created, total: FILES });
    expect(done.created).toBe(FILES - stopped.created);
    expect(stopped.batches + done.batches).toBeGreaterThanOrEqual(20);

    const rows = await api.server.deps.orm.em
      .getConnection()
      .execute<{ n: string; ids: string }[]>(
        'select count(*) as n, count(distinct external_id) as ids from dataset_items where dataset_id = ?',
        [datasetId],
      );
    expect(rows[0]).toEqual({ n: String(FILES), ids: String(FILES) });
    const shown = await runCli(['datasets', 'list', '--project', projectId, '--json'], env);
    expect((JSON.parse(shown.stdout) as { items: { id: string; itemCount: number }[] }).items).toEqual([
      expect.objectContaining({ id: datasetId, itemCount: FILES }),
    ]);

    // Running it once more changes nothing: everything is skipped, no request uploads anything.
    const third = JSON.parse((await runCli(args, env)).stdout) as UploadJson;
    expect(third).toMatchObject({ skipped: FILES, created: 0, batches: 0 });
  });

  it('a run with --wait judges every item exactly as the core pipeline does; results stream as JSONL and CSV', async () => {
    const started = await spawnCli(
      ['runs', 'start', '--dataset', datasetId, '--wait', '--json'],
      env,
      () => {},
    );
    expect(started.code, started.stderr).toBe(0);
    const run = JSON.parse(started.stdout) as Run;
    expect(run).toMatchObject({ status: 'succeeded', total: FILES, processed: FILES });
    expect(started.stderr).toMatch(new RegExp(`judged ${FILES}/${FILES} 100%`));

    // The same pipeline over the same items, judged directly in packages/core.
    const judged = judgeDataset(run.pipeline, await pipelineItems(datasetId));
    expect(run.counts).toEqual(countVerdicts(judged));
    expect(new Set(judged.map((j) => j.verdict)).size).toBeGreaterThan(1);
    const expected = new Map(judged.map((j) => [j.itemId, { verdict: j.verdict, reasons: j.reasons }]));

    const jsonl = await runCli(['runs', 'results', run.id, '--dataset', datasetId, '--format', 'jsonl'], env);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const results = jsonl.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as RunResult);
    expect(results).toHaveLength(FILES);
    for (const r of results)
      expect({ verdict: r.verdict, reasons: r.reasons }).toEqual(expected.get(r.itemId));

    const csv = await runCli(['runs', 'results', run.id, '--dataset', datasetId, '--format', 'csv'], env);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = parseCsv(csv.stdout);
    expect(rows[0]).toEqual(['externalId', 'itemId', 'verdict', 'reasons']);
    expect(rows).toHaveLength(FILES + 1);
    const byItem = new Map(results.map((r) => [r.itemId, r]));
    for (const [externalId, itemId, verdict] of rows.slice(1)) {
      const r = byItem.get(itemId ?? '');
      expect(verdict).toBe(r?.verdict);
      // A leading = is guarded with ' so a spreadsheet shows it instead of computing it.
      expect(externalId).toBe(r?.externalId.startsWith('=') ? `'${r.externalId}` : r?.externalId);
    }
    expect(rows.map((row) => row[0])).toEqual(
      expect.arrayContaining(['odd, name.txt', 'say "hi".txt', "'=1+1.txt"]),
    );

    const flagged = await runCli(
      ['runs', 'results', run.id, '--dataset', datasetId, '--verdict', 'flag'],
      env,
    );
    expect(flagged.stdout.split('\n').filter(Boolean)).toHaveLength(run.counts.flag);
  });

  it('uploads text items from JSON Lines, reports bad lines by number, and skips externalIds already there whatever their text', async () => {
    const created = await runCli(['datasets', 'create', '--project', projectId, 'Texts', '--json'], env);
    const texts = (JSON.parse(created.stdout) as { id: string }).id;
    const file = join(dir, 'texts.jsonl');
    writeFileSync(
      file,
      [
        ...Array.from({ length: 30 }, (_, i) =>
          JSON.stringify({ externalId: `t-${i}`, text: `text, "quoted" ${i}` }),
        ),
        'not json',
        JSON.stringify({ externalId: 't-x' }),
      ].join('\n'),
    );
    const r = await runCli(['items', 'upload', '--dataset', texts, file, '--batch-size', '7', '--json'], env);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as UploadJson & { failures: { line?: number; code: string }[] };
    expect([s.created, s.failed, s.batches]).toEqual([30, 2, 5]);
    expect(s.failures.map((f) => [f.line, f.code])).toEqual([
      [31, 'INVALID_LINE'],
      [32, 'INVALID_LINE'],
    ]);
    // Resuming is by externalId: other text under a taken one is skipped by the listing, not sent.
    const changed = join(dir, 'changed.jsonl');
    writeFileSync(changed, `${JSON.stringify({ externalId: 't-0', text: 'something else' })}\n`);
    expect(
      JSON.parse((await runCli(['items', 'upload', '--dataset', texts, changed, '--json'], env)).stdout),
    ).toMatchObject({ skipped: 1, created: 0 });
  });
});

/**
 * The dataset's items as packages/core's pipeline sees them, read straight from the database. `createdAt` is the
 * item's rank in the dataset order (creation time at PostgreSQL's precision, then id): the pipeline only compares
 * it, so a rank judges exactly like the worker's timestamps do, whatever unit they are in.
 */
async function pipelineItems(id: string): Promise<PipelineItem[]> {
  const rows = await api.server.deps.orm.em.fork().getConnection().execute<
    {
      id: string;
      kind: 'file' | 'text';
      media_type: string;
      size: number;
      sha256: string;
      text: string | null;
    }[]
  >(
    'select id, kind, media_type, size, sha256, text from dataset_items where dataset_id = ? order by created_at, id',
    [id],
  );
  return rows.map((row, rank) => ({
    id: row.id,
    createdAt: rank,
    kind: row.kind,
    mediaType: row.media_type,
    size: Number(row.size),
    sha256: row.sha256,
    text: row.kind === 'text' ? (row.text ?? '') : null,
  }));
}

/** RFC 4180, as a spreadsheet reads it: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text.charAt(i + 1) === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text.charAt(i + 1) === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}
