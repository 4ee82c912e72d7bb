/**
 * The promise of the throttle, against the real API started with tight limits: a bulk run of 2,000 creations
 * through the CLI finishes every item exactly once, with at most 1% of requests answered 429, and no window
 * admitting more than its quota. Counts only: how fast it went is measured by `pnpm bench`, not asserted here,
 * so a loaded machine can make the run slower but never make this test fail.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, ensureCliBuilt, runCli, seed, startApi, tallyKeyWindows } from './helpers.ts';

const QUOTA = 400;
const WINDOW_SECONDS = 4;
const ITEMS = 2000;

let api: Api;

beforeAll(async () => {
  await ensureCliBuilt();
  api = await startApi({ quota: QUOTA, windowSeconds: WINDOW_SECONDS });
});
afterAll(async () => {
  await api?.close();
});

describe(`bulk: ${ITEMS} creations at ${QUOTA} per ${WINDOW_SECONDS} s`, () => {
  it('the throttled CLI import creates every item once, with ≤ 1% 429s and no window over its quota', async () => {
    const { key, orgId } = await seed(api, 'member');
    const tally = tallyKeyWindows(api);
    const dir = mkdtempSync(join(tmpdir(), 'crowdee-bulk-'));
    const file = join(dir, 'projects.jsonl');
    writeFileSync(
      file,
      Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ name: `bulk-${i}` })).join('\n'),
    );
    const r = await runCli(['projects', 'import', '--org', orgId, file, '--json'], {
      CROWDEE_API_KEY: key,
      CROWDEE_API_URL: api.server.url,
    });
    const s = JSON.parse(r.stdout) as {
      created: number;
      failed: number;
      requests: number;
      rateLimited: number;
    };
    console.info(
      `throttled: ${s.created}/${ITEMS} created, ${s.requests} requests, ${s.rateLimited} × 429; ` +
        `server: ${tally.admitted} admitted in ${tally.windows} windows of ${QUOTA}, ${tally.refused} refused`,
    );
    expect(r.code).toBe(0);
    expect([s.created, s.failed]).toEqual([ITEMS, 0]);
    expect(s.rateLimited).toBeLessThanOrEqual(s.requests * 0.01);
    // What the server saw agrees with what the client reports.
    expect([tally.admitted, tally.refused]).toEqual([ITEMS, s.rateLimited]);
    // No window admitted more than its quota: 2,000 admissions needed at least 5 windows of 400.
    expect(tally.windows).toBeGreaterThanOrEqual(Math.ceil(ITEMS / QUOTA));
    // Every item exists exactly once: the retries after a 429 created no duplicates.
    const rows = await api.server.deps.orm.em
      .getConnection()
      .execute<{ n: string; names: string }[]>(
        'select count(*) as n, count(distinct name) as names from projects where organization_id = ?',
        [orgId],
      );
    expect(rows[0]).toEqual({ n: String(ITEMS), names: String(ITEMS) });
  });
});
