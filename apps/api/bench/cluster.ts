/**
 * `pnpm bench` (cluster part): three API nodes on one PostgreSQL and one Redis behind nginx (the parts
 * `pnpm cluster` runs), measuring
 *   - how long a change made through node A takes to be refused on nodes B and C (revocation, demotion, removal):
 *     the distribution over many trials;
 *   - the throughput of 3 nodes behind nginx ÷ 1 node on its own, for key-authenticated GET /api/v1/me with the
 *     Redis-backed limiter on. This machine has 2 cores shared with the load generator, PostgreSQL and nginx, so
 *     the ratio cannot show real scaling: it is there to catch regressions (a ratio falling well below 1 means
 *     the balancer or the shared state became a bottleneck).
 */
import { randomUUID } from 'node:crypto';
import { openDatabase } from '@crowdee/db';
import { startCluster } from '../src/cluster/cluster.ts';
import { missingClusterTools } from '../src/cluster/executables.ts';
import { TestMailbox, tokenOf } from '../src/mail/test-mailbox.ts';
import {
  demotionTrials,
  percentile,
  removalTrials,
  revocationTrials,
  seedMemberWithKey,
  type TrialResult,
  type TrialSetup,
} from '../test/helpers/cluster-trials.ts';
import { Browser } from '../test/helpers/http-client.ts';
import { load, median } from './run.ts';

const TRIALS = Number(process.env.BENCH_PROPAGATION_TRIALS ?? 100);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

function distribution(name: string, r: TrialResult): string {
  const f = (p: number) => `${percentile(r.delaysMs, p).toFixed(1)}`.padStart(7);
  const max = Math.max(...r.delaysMs)
    .toFixed(1)
    .padStart(7);
  return `${name.padEnd(11)} n=${String(r.delaysMs.length).padStart(4)}  p50 ${f(50)}  p90 ${f(90)}  p99 ${f(99)}  max ${max} ms   ≤ 1 s: ${r.delaysMs.length - r.overOneSecond}/${r.delaysMs.length + r.stuck}`;
}

async function main(): Promise<void> {
  const missing = missingClusterTools(!process.env.REDIS_URL);
  if (missing.length > 0) {
    console.log(`\nCluster bench skipped: it needs ${missing.join('; ')}.`);
    return;
  }
  console.log(
    `\nCrowdee cluster bench — 3 API nodes behind nginx, ${TRIALS} propagation trials per change, throughput ${ROUNDS} rounds of ${ROUND_SECONDS}s, ${CONNECTIONS} connections`,
  );
  // The nodes mail through a real SMTP server the bench reads (the owner must verify their address).
  const mailbox = await TestMailbox.start();
  const cluster = await startCluster({
    nodes: 3,
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    entry: 'source',
    env: {
      RATE_LIMIT_NAMESPACE: `bench-cluster-${randomUUID().slice(0, 8)}`,
      RATE_LIMIT_ANONYMOUS: '1000000/60',
      RATE_LIMIT_AUTHENTICATED: '1000000/60',
      RATE_LIMIT_SIGN_UP: '1000/60',
      RATE_LIMIT_HEALTH: '100000/60',
      SMTP_URL: mailbox.smtpUrl,
    },
  });
  const orm = await openDatabase({ url: cluster.databaseUrl, poolMax: 4 });
  try {
    const [a, b, c] = cluster.nodes;
    if (!a || !b || !c) throw new Error('three nodes expected');
    const owner = new Browser(a.url);
    const email = `bench-owner-${randomUUID()}@example.test`;
    await owner.trpc.auth.signUp.mutate({
      email,
      password: 'correct horse battery staple',
      name: 'Bench owner',
    });
    await owner.trpc.auth.verifyEmail.mutate({
      token: tokenOf((await mailbox.take(email, 'verify-email')).link),
    });
    const orgId = (await owner.trpc.orgs.create.mutate({ name: 'Bench cluster' })).id;
    const setup: TrialSetup = {
      orm,
      a: a.url,
      others: [b.url, c.url],
      orgId,
      owner,
      trials: TRIALS,
      deadlineMs: 10_000,
    };

    console.log(
      '\n1. Propagation delay: change through node A → first refusal on B and C (ms from A’s answer)',
    );
    const results: [string, TrialResult][] = [
      ['revocation', await revocationTrials(setup)],
      ['demotion', await demotionTrials(setup)],
      ['removal', await removalTrials(setup)],
    ];
    for (const [name, r] of results) console.log(`  ${distribution(name, r)}`);

    console.log('\n2. Throughput, GET /api/v1/me with a key (rate limits on, counted in Redis)');
    const { key } = await seedMemberWithKey(orm, orgId, 'member');
    const headers = { authorization: `Bearer ${key}` };
    const targets = [
      { label: '1 node, direct', url: `${a.url}/api/v1/me` },
      { label: '3 nodes behind nginx', url: `${cluster.url}/api/v1/me` },
    ];
    for (const t of targets)
      await load({ url: t.url, headers, connections: CONNECTIONS, durationSeconds: 2 });
    const samples: number[][] = targets.map(() => []);
    let failures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (const [i, t] of targets.entries()) {
        const r = await load({
          url: t.url,
          headers,
          connections: CONNECTIONS,
          durationSeconds: ROUND_SECONDS,
        });
        failures += r.non2xx + r.errors;
        samples[i]?.push(r.rps);
        line.push(`${t.label} ${r.rps.toFixed(0)}/s`);
      }
      console.log(`  round ${round + 1}: ${line.join(' | ')}`);
    }
    const [one = 0, three = 0] = samples.map(median);

    console.log('\n=== Cluster results ===');
    for (const [name, r] of results) console.log(distribution(name, r));
    console.log(
      `3 nodes behind nginx ÷ 1 node (GET /api/v1/me)   ${(three / one).toFixed(2)}×   (${three.toFixed(0)} vs ${one.toFixed(0)} req/s; 2 shared cores: a regression guard, not a scaling claim)`,
    );
    if (failures > 0) console.log(`WARNING: ${failures} failed requests during the throughput rounds`);
  } finally {
    await orm.close();
    await cluster.stop();
    await mailbox.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
