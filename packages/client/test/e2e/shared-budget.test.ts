/**
 * Two processes using one key share its budget through Redis (Bottleneck clustering plus the shared pause and
 * quota estimate): against the real API, they finish their work with (almost) no 429s. Runs when REDIS_URL is
 * set (always in .ci/run).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Api, PACKAGE_DIR, seed, startApi, tallyKeyWindows } from './helpers.ts';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('[skip] two-process shared budget test: REDIS_URL is not set (.ci/run sets it)');

let api: Api | undefined;
afterAll(async () => {
  await api?.close();
});

function worker(
  count: number,
  env: Record<string, string>,
): Promise<{ ok: number; failed: number; stats: { sent: number; rateLimited: number } }> {
  const file = fileURLToPath(new URL('./fixtures/shared-budget-worker.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file, String(count), REDIS_URL ?? ''],
      { cwd: PACKAGE_DIR, env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim())),
    );
  });
}

describe.skipIf(!REDIS_URL)('two processes, one key, one budget (Redis)', () => {
  it('admit everything within the quota, with (almost) no 429s', async () => {
    api = await startApi({ quota: 60, windowSeconds: 2 }, undefined);
    const { key } = await seed(api, 'viewer');
    const env = { CROWDEE_API_KEY: key, CROWDEE_API_URL: api.server.url };
    const tally = tallyKeyWindows(api);
    const [a, b] = await Promise.all([worker(150, env), worker(150, env)]);
    const sent = a.stats.sent + b.stats.sent;
    const rateLimited = a.stats.rateLimited + b.stats.rateLimited;
    console.info(
      `shared budget: 2 × 150 calls, ${sent} requests, ${rateLimited} × 429 at 60 per 2 s; ` +
        `server: ${tally.admitted} admitted in ${tally.windows} windows, ${tally.refused} refused`,
    );
    expect(a.ok + b.ok).toBe(300);
    expect(a.failed + b.failed).toBe(0);
    expect(rateLimited).toBeLessThanOrEqual(3);
    expect([tally.admitted, tally.refused]).toEqual([300, rateLimited]);
    // The two together did not exceed the key's budget: 300 admissions took at least 5 windows of 60.
    expect(tally.windows).toBeGreaterThanOrEqual(5);
  });
});
