/**
 * The promise of the throttle, against the real API started with tight limits: a bulk run of 2,000 requests
 * finishes every item, with at most 1% of requests answered 429 and an achieved rate of at least 90% of the
 * configured limit. The same run with a naive client (no throttle, retry on 429 at once) is measured beside it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, ensureCliBuilt, PACKAGE_DIR, runCli, seed, startApi } from './helpers.ts';

const QUOTA = 400;
const WINDOW_SECONDS = 4;
const LIMIT_PER_SECOND = QUOTA / WINDOW_SECONDS;
const ITEMS = 2000;

let api: Api;
const results: Record<string, unknown> = {};

beforeAll(async () => {
  await ensureCliBuilt();
  api = await startApi({ quota: QUOTA, windowSeconds: WINDOW_SECONDS });
});
afterAll(async () => {
  await api?.close();
  mkdirSync(join(PACKAGE_DIR, 'test-artifacts'), { recursive: true });
  writeFileSync(join(PACKAGE_DIR, 'test-artifacts', 'bulk-results.json'), JSON.stringify(results, null, 2));
});

describe(`bulk: ${ITEMS} creations at ${QUOTA} per ${WINDOW_SECONDS} s`, () => {
  it('the throttled CLI import finishes every item with ≤ 1% 429s at ≥ 90% of the limit', async () => {
    const { key, orgId } = await seed(api, 'member');
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
      seconds: number;
    };
    const rate = ITEMS / s.seconds;
    results.throttled = {
      ...s,
      achievedPerSecond: rate,
      limitPerSecond: LIMIT_PER_SECOND,
      ratioToLimit: rate / LIMIT_PER_SECOND,
    };
    console.info(
      `throttled: ${s.created}/${ITEMS} created, ${s.requests} requests, ${s.rateLimited} × 429 (${((s.rateLimited / s.requests) * 100).toFixed(2)}%), ${s.seconds} s, ${rate.toFixed(1)}/s = ${((rate / LIMIT_PER_SECOND) * 100).toFixed(0)}% of the ${LIMIT_PER_SECOND}/s limit`,
    );
    expect(r.code).toBe(0);
    expect(s.created).toBe(ITEMS);
    expect(s.rateLimited).toBeLessThanOrEqual(s.requests * 0.01);
    expect(rate).toBeGreaterThanOrEqual(0.9 * LIMIT_PER_SECOND);
  });

  it('a naive client (no throttle, retry at once on 429) measured beside it', async () => {
    const { key, orgId } = await seed(api, 'member');
    const started = performance.now();
    let requests = 0;
    let rateLimited = 0;
    let next = 0;
    const worker = async () => {
      while (next < ITEMS) {
        const i = next++;
        for (;;) {
          requests++;
          const res = await fetch(`${api.server.url}/api/v1/orgs/${orgId}/projects`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ name: `naive-${i}` }),
          });
          await res.arrayBuffer();
          if (res.status !== 429) break;
          rateLimited++;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const seconds = (performance.now() - started) / 1000;
    const rate = ITEMS / seconds;
    results.naive = {
      created: ITEMS,
      requests,
      rateLimited,
      seconds,
      achievedPerSecond: rate,
      ratioToLimit: rate / LIMIT_PER_SECOND,
    };
    console.info(
      `naive:     ${ITEMS}/${ITEMS} created, ${requests} requests, ${rateLimited} × 429 (${((rateLimited / requests) * 100).toFixed(1)}%), ${seconds.toFixed(1)} s, ${rate.toFixed(1)}/s`,
    );
    // The point of the comparison: the naive client spends most of its requests on refusals.
    expect(rateLimited).toBeGreaterThan(ITEMS * 0.1);
  });
});
