/**
 * Schema-driven fuzzing, in every `pnpm test` run: requests generated (fast-check, seeded) from the OpenAPI document
 * and every tRPC procedure's input schema, valid, on the bounds and hostile, with and without credentials. No
 * answer may be a 5xx or take longer than 5 s, and every REST answer must be one the document declares.
 *
 * `FUZZ_CASES` (default 2,400; `pnpm fuzz` runs 20,000) and `FUZZ_SEED` (printed) reproduce a run. With
 * `FUZZ_RECORD=1` (as `pnpm fuzz` sets) each failing case is saved to `test/fuzz-regressions/`, and every saved
 * case is replayed below as a fixed test, forever.
 */
import fc from 'fast-check';
import type { OpenAPIObject } from 'trpc-to-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../src/config.ts';
import { buildOpenApiDocument } from '../src/rest/openapi.ts';
import { appRouter } from '../src/routers/index.ts';
import { type FuzzCase, restArbitraries, strayArbitrary, trpcArbitraries } from './fuzz/cases.ts';
import {
  buildFixture,
  type Fixture,
  fill,
  Judge,
  loadRegressions,
  saveRegression,
  send,
} from './fuzz/runner.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const CASES = Number(process.env.FUZZ_CASES ?? 2_400);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RECORD = process.env.FUZZ_RECORD === '1';
/** A fresh fixture every so many cases: cases may delete the organization, revoke the key or sign out. */
const CHUNK = 200;
const CONCURRENCY = 6;
const UNLIMITED = { quota: 1_000_000_000, windowSeconds: 60 };

let app: TestApp;
let doc: OpenAPIObject;
let judge: Judge;

beforeAll(async () => {
  app = await startTestApp({
    config: { bodyLimitBytes: 102_400 },
    // The limiter runs (it parses paths and bodies too) but never refuses: a 429 would hide what comes after it.
    limits: {
      // Every tier, including ones added later (sign-up verification mail, invitations, …).
      policies: Object.fromEntries(
        Object.keys(testConfig().rateLimits.policies).map((tier) => [tier, UNLIMITED]),
      ),
    },
  });
  doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as OpenAPIObject;
  judge = new Judge(doc);
});
afterAll(async () => {
  await app?.close();
});

interface Failure {
  fuzz: FuzzCase;
  problems: string[];
}

async function run(
  cases: FuzzCase[],
  fixture: Fixture,
): Promise<{ failures: Failure[]; statuses: number[] }> {
  const failures: Failure[] = [];
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const fuzz = cases[next++] as FuzzCase;
      let problems: string[];
      try {
        const answer = await send(app.url, fuzz, fixture);
        statuses.push(answer?.status ?? 0);
        problems = judge.judge(fuzz, fill(fuzz.path, fixture), answer);
      } catch (error) {
        problems = [`request failed: ${(error as Error).message}`];
      }
      if (problems.length > 0) failures.push({ fuzz, problems });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { failures, statuses };
}

function report(failures: Failure[]): string {
  return failures
    .slice(0, 15)
    .map((f) => `${f.problems.join('; ')}\n  ${JSON.stringify(f.fuzz).slice(0, 600)}`)
    .join('\n');
}

describe('schema-driven fuzzing', () => {
  const targets = [...restArbitraries(buildOpenApiDocument(appRouter)), ...trpcArbitraries()];

  it('targets every REST operation and every tRPC procedure', () => {
    const procedures = Object.keys(appRouter._def.procedures);
    expect(
      targets
        .filter((t) => !t.target.includes(' '))
        .map((t) => t.target)
        .sort(),
    ).toEqual([...procedures].sort());
    expect(targets.filter((t) => t.target.includes(' ')).length).toBeGreaterThanOrEqual(6);
  });

  it(`${CASES} generated requests: no 5xx, no hang, every REST answer declared by the document`, {
    timeout: Math.max(600_000, CASES * 150),
  }, async () => {
    console.log(`[fuzz] seed ${SEED}, ${CASES} cases — replay with FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}`);
    const arbitrary = fc.oneof(...targets.map((t) => ({ weight: 4, arbitrary: t.arbitrary })), {
      weight: 3,
      arbitrary: strayArbitrary(),
    });
    const cases = fc.sample(arbitrary, { seed: SEED, numRuns: CASES });
    // Each target gets its share: none is left out by chance.
    const perTarget = new Map<string, number>();
    for (const c of cases) perTarget.set(c.target, (perTarget.get(c.target) ?? 0) + 1);
    for (const t of targets)
      expect(perTarget.get(t.target) ?? 0, t.target).toBeGreaterThan(CASES / targets.length / 4);

    const failures: Failure[] = [];
    const statuses: number[] = [];
    for (let start = 0; start < cases.length; start += CHUNK) {
      const fixture = await buildFixture(app);
      const result = await run(cases.slice(start, start + CHUNK), fixture);
      failures.push(...result.failures);
      statuses.push(...result.statuses);
    }
    const histogram = Object.fromEntries(
      [...new Set(statuses)].sort().map((s) => [s, statuses.filter((x) => x === s).length]),
    );
    console.log(
      `[fuzz] ${cases.length} requests sent, statuses ${JSON.stringify(histogram)}, ${failures.length} failed`,
    );
    if (RECORD) {
      // One saved case per target and kind of failure: the same bug found a hundred times is one regression.
      const seen = new Set<string>();
      for (const f of failures) {
        const kind = `${f.fuzz.transport} ${f.fuzz.method} ${f.problems.join('; ').replace(/\d+/g, 'N').slice(0, 80)}`;
        if (seen.has(kind)) continue;
        seen.add(kind);
        console.log(`[fuzz] saved ${saveRegression(f.fuzz, f.problems.join('; '))}`);
      }
    }
    expect(failures.length, `seed ${SEED}\n${report(failures)}`).toBe(0);
    expect(statuses.length).toBe(cases.length);
  });
});

describe('fuzz regressions (every case that ever failed, replayed)', () => {
  const regressions = loadRegressions();
  it('the list is not empty and every entry says what it found', () => {
    expect(regressions.length).toBeGreaterThan(0);
    for (const { regression } of regressions) expect(regression.found).not.toBe('');
  });
  it.each(regressions.map(({ file, regression }) => [file, regression.found, regression] as const))(
    '%s (found: %s)',
    async (_file, _found, regression) => {
      const fixture = await buildFixture(app);
      const answer = await send(app.url, regression.case, fixture);
      expect(judge.judge(regression.case, fill(regression.case.path, fixture), answer)).toEqual([]);
    },
  );
});
