/**
 * `pnpm bench` (API part): measures, in one run, what the request path costs on top of a plain Express route.
 *
 *   - key-authenticated REST GET /api/v1/me and tRPC `keys.current` (the same procedure; `auth.me` is
 *     session-only) against a plain Express JSON route of the same server (GET /, the discovery document), as
 *     throughput ratios — this machine is noisy, so only ratios measured side by side in the same run mean anything;
 *   - SQL statements sent per 10,000 authenticated requests, and what the usage flush then writes for them;
 *   - usage counting's cost: GET /api/v1/me with usage counting on (flushing every 10 s) ÷ off;
 *   - rate limits on (memory store, and Redis when reachable) ÷ off, for /api/v1/me.
 *
 * Rounds alternate between the routes and the median of each is reported. For where the time goes, see
 * `pnpm bench:profile`.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { countStatements, type Orm, openDatabase, serverOrThrowAwayPostgres } from '@crowdee/db';
import { Redis } from 'ioredis';
import { createApp } from '../src/app.ts';
import type { AppDeps } from '../src/app-deps.ts';
import { type Config, testConfig } from '../src/config.ts';
import { createDeps } from '../src/deps.ts';
import { listen } from '../src/http/listen.ts';
import { createLogger } from '../src/logger.ts';
import { createRateLimiting, stopRateLimiting } from '../src/rate-limit/index.ts';
import { signUp } from '../src/services/accounts.service.ts';
import { createKey } from '../src/services/api-keys.service.ts';
import { createOrganization, setActiveOrganization } from '../src/services/organizations.service.ts';
import type { LoadJob, LoadResult } from './load-worker.ts';

const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(import.meta.dirname, 'load-worker.ts'), [], { execArgv: ['--import', 'tsx'] });
    child.once('message', (msg: LoadResult | { error: string }) => {
      child.kill();
      if ('error' in msg) reject(new Error(msg.error));
      else resolve(msg);
    });
    child.once('error', reject);
    child.send(job);
  });
}

export interface BenchServer {
  url: string;
  deps: AppDeps;
  close(): Promise<void>;
}

export async function startBenchServer(
  orm: Orm,
  config: Config,
  redis?: Redis,
  options: { usageFlushTimer?: boolean } = {},
): Promise<BenchServer> {
  const logger = createLogger({ logLevel: 'warn' });
  const limits = await createRateLimiting({ config, logger, orm, ...(redis ? { redis } : {}) });
  const deps = createDeps(config, logger, orm, { limits });
  // As in production: counts are flushed on a timer (off where statements are counted per request).
  if (options.usageFlushTimer) deps.usage.start();
  const http = await listen(createApp(deps), 0, '127.0.0.1');
  return {
    url: http.url,
    deps,
    close: async () => {
      await http.closeNow();
      await deps.usage.stop();
      // The Redis connection belongs to the bench, which reuses it for the next server.
      stopRateLimiting(limits);
    },
  };
}

/** A user, an organization and a key, created through the services (the bench measures requests, not set-up). */
export async function seedKey(deps: AppDeps): Promise<string> {
  const em = deps.orm.em.fork();
  const origin = { ip: '127.0.0.1', userAgent: 'bench' };
  const { user } = await signUp(
    deps,
    em,
    { email: `bench-${Date.now()}@example.com`, password: 'bench password 123', name: 'Bench' },
    origin,
  );
  const actor = { type: 'user' as const, userId: user.id, keyId: null, ...origin };
  const org = await createOrganization(deps, em, actor, 'Bench Org');
  const session = await em
    .getConnection()
    .execute<{ id: string }[]>('select id from sessions where user_id = ?', [user.id]);
  await setActiveOrganization(em, { id: session[0]?.id ?? '', userId: user.id }, org.id);
  const created = await createKey(
    deps,
    em,
    actor,
    { id: user.id, activeOrganizationId: org.id },
    { name: 'bench', role: 'admin' },
  );
  return created.key;
}

export interface RouteSpec {
  label: string;
  path: string;
  headers: Record<string, string>;
}

export function benchRoutes(key: string): RouteSpec[] {
  return [
    { label: 'GET / (plain Express, public)', path: '/', headers: { accept: 'application/json' } },
    { label: 'GET /api/v1/status (REST adapter, public)', path: '/api/v1/status', headers: {} },
    {
      label: 'GET /api/v1/me (REST adapter, key)',
      path: '/api/v1/me',
      headers: { authorization: `Bearer ${key}` },
    },
    {
      label: 'GET /trpc/keys.current (tRPC, key)',
      path: '/trpc/keys.current',
      headers: { authorization: `Bearer ${key}` },
    },
  ];
}

/**
 * Rounds alternate between the routes; each route's median req/s is returned, in order, and the median over rounds
 * of its ratio to the first route measured in the same round (the load of the machine drifts between rounds, so
 * ratios taken seconds apart are steadier than a ratio of medians).
 */
export async function measureRoutes(
  url: string,
  routes: RouteSpec[],
  label: string,
): Promise<{ rps: number[]; ratios: number[]; cpuRatios: number[]; youngGc: number[]; failures: number }> {
  const samples: number[][] = routes.map(() => []);
  const cpu: number[][] = routes.map(() => []);
  const gc: number[][] = routes.map(() => []);
  let failures = 0;
  for (const r of routes)
    await load({ url: `${url}${r.path}`, headers: r.headers, connections: CONNECTIONS, durationSeconds: 2 });
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (const [i, r] of routes.entries()) {
      const { result, cpuPerRequest, youngGcPerRequest } = await loadMeasured({
        url: `${url}${r.path}`,
        headers: r.headers,
        connections: CONNECTIONS,
        durationSeconds: ROUND_SECONDS,
      });
      failures += result.non2xx + result.errors;
      samples[i]?.push(result.rps);
      cpu[i]?.push(cpuPerRequest);
      gc[i]?.push(youngGcPerRequest);
      line.push(
        `${r.path} ${result.rps.toFixed(0)}/s ${cpuPerRequest.toFixed(0)} µs (scavenge ${youngGcPerRequest.toFixed(1)} µs)`,
      );
    }
    console.log(`  [${label}] round ${round + 1}: ${line.join(' | ')}`);
  }
  const ratios = samples.map((s) => median(s.map((rps, round) => rps / (samples[0]?.[round] || 1))));
  const cpuRatios = cpu.map((c) => median(c.map((us, round) => (cpu[0]?.[round] ?? 0) / (us || 1))));
  return { rps: samples.map(median), ratios, cpuRatios, youngGc: gc.map(median), failures };
}

/**
 * A load run, with the server's CPU time per request: the server runs in this process (the load generator and
 * PostgreSQL in others), so `process.cpuUsage()` over the run is the server's. On a machine shared with other
 * work, CPU per request moves far less than requests per second; its inverse ratio is what one core would serve.
 */
async function loadMeasured(
  job: LoadJob,
): Promise<{ result: LoadResult; cpuPerRequest: number; youngGcPerRequest: number }> {
  // Young-generation (scavenge) pauses in the server during the run: what requests that outlive a collection
  // cost (#17 found per-request state kept alive by request-keyed WeakMaps this way).
  let youngGcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
        youngGcMs += entry.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const before = process.cpuUsage();
  const result = await load(job);
  const used = process.cpuUsage(before);
  gc.disconnect();
  const requests = Math.max(1, result.requests);
  return {
    result,
    cpuPerRequest: (used.user + used.system) / requests,
    youngGcPerRequest: (youngGcMs * 1000) / requests,
  };
}

/** Rate limits on, with quotas high enough that nothing is refused: what counting costs, not what refusing does. */
export function limitsOnConfig(namespace: string): Config {
  const base = testConfig();
  const huge = { quota: 1_000_000, windowSeconds: 60 };
  return testConfig({
    rateLimits: {
      enabled: true,
      namespace,
      policies: Object.fromEntries(
        Object.entries(base.rateLimits.policies).map(([tier, p]) => [tier, { ...p, ...huge }]),
      ) as typeof base.rateLimits.policies,
    },
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1).padStart(6)} %`;

async function redisReachable(url: string): Promise<Redis | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch {
    redis.disconnect();
    return undefined;
  }
}

async function main(): Promise<void> {
  const { url, stop: stopPg } = await serverOrThrowAwayPostgres(process.env.DATABASE_URL, 'crowdee-bench-');
  const orm = await openDatabase({ url });
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = await redisReachable(redisUrl);
  try {
    console.log(
      `Crowdee API bench — ${ROUNDS} rounds of ${ROUND_SECONDS}s per route, ${CONNECTIONS} connections, Node ${process.version}`,
    );
    console.log(
      'Every ratio below is the median over rounds of throughputs measured side by side (this machine is noisy).\n',
    );
    const off = testConfig();
    const server = await startBenchServer(orm, off);
    const key = await seedKey(server.deps);

    console.log('1. Authentication cost (rate limits off)');
    const routes = benchRoutes(key);
    const auth = await measureRoutes(server.url, routes, 'limits off');
    const [, status = 0, me = 0, trpcMe = 0] = auth.ratios;
    const [, , meCpu = 0, trpcMeCpu = 0] = auth.cpuRatios;

    console.log('\n2. SQL statements per 10,000 authenticated requests (the key already verified once)');
    let statements = 0;
    const stop = countStatements(orm, () => {
      statements++;
    });
    const counted = await load({
      url: `${server.url}/api/v1/me`,
      headers: { authorization: `Bearer ${key}` },
      connections: CONNECTIONS,
      amount: 10_000,
    });
    stop();
    // The usage of those 10,000 requests, written the way the timer writes it.
    let flushStatements = 0;
    const stopFlush = countStatements(orm, () => {
      flushStatements++;
    });
    await server.deps.usage.flush();
    stopFlush();
    await server.close();

    console.log(
      '\n3. Usage counting cost on GET /api/v1/me (on, flushing every 10 s, ÷ off; rate limits off)',
    );
    const usageServers = [
      await startBenchServer(orm, off, undefined, { usageFlushTimer: true }),
      await startBenchServer(orm, testConfig({ usage: { enabled: false, flushMs: 10_000 } })),
    ];
    const usageSamples: number[][] = [[], []];
    for (const s of usageServers)
      await load({
        url: `${s.url}/api/v1/me`,
        headers: { authorization: `Bearer ${key}` },
        connections: CONNECTIONS,
        durationSeconds: 2,
      });
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (const [i, s] of usageServers.entries()) {
        const { result } = await loadMeasured({
          url: `${s.url}/api/v1/me`,
          headers: { authorization: `Bearer ${key}` },
          connections: CONNECTIONS,
          durationSeconds: ROUND_SECONDS,
        });
        const r = result.rps;
        usageSamples[i]?.push(r);
        line.push(`usage ${i === 0 ? 'on' : 'off'} ${r.toFixed(0)}/s`);
      }
      console.log(`  round ${round + 1}: ${line.join(' | ')}`);
    }
    const [usageOn = 0, usageOff = 1] = usageSamples.map(median);
    for (const s of usageServers) await s.close();

    console.log('\n4. Rate limiter cost on GET /api/v1/me (quotas high enough that nothing is refused)');
    const limitsOn = limitsOnConfig;
    const variants: { label: string; config: typeof off; redis?: Redis }[] = [
      { label: 'limits off', config: off },
      { label: 'memory store', config: limitsOn('bench-memory') },
    ];
    if (redis) variants.push({ label: 'Redis store', config: limitsOn(`bench-${Date.now()}`), redis });
    else console.log(`  (Redis store skipped: no Redis at ${redisUrl}; set REDIS_URL)`);
    const limiterRps: number[] = [];
    const limiterRatios: number[] = [];
    const servers: BenchServer[] = [];
    for (const v of variants) servers.push(await startBenchServer(orm, v.config, v.redis));
    const meRoute = (k: string): RouteSpec[] => [
      { label: 'me', path: '/api/v1/me', headers: { authorization: `Bearer ${k}` } },
    ];
    const samples: number[][] = variants.map(() => []);
    const cpuSamples: number[][] = variants.map(() => []);
    for (const s of servers)
      await load({
        url: `${s.url}/api/v1/me`,
        headers: { authorization: `Bearer ${key}` },
        connections: CONNECTIONS,
        durationSeconds: 2,
      });
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (const [i, s] of servers.entries()) {
        const [route] = meRoute(key);
        const { result, cpuPerRequest } = await loadMeasured({
          url: `${s.url}${route?.path}`,
          headers: route?.headers ?? {},
          connections: CONNECTIONS,
          durationSeconds: ROUND_SECONDS,
        });
        samples[i]?.push(result.rps);
        cpuSamples[i]?.push(cpuPerRequest);
        line.push(`${variants[i]?.label} ${result.rps.toFixed(0)}/s ${cpuPerRequest.toFixed(0)} µs`);
      }
      console.log(`  round ${round + 1}: ${line.join(' | ')}`);
    }
    const limiterCpuRatios: number[] = [];
    for (const [i, s] of samples.entries()) {
      limiterRps.push(median(s));
      limiterRatios.push(median(s.map((rps, round) => rps / (samples[0]?.[round] || 1))));
      const c = cpuSamples[i] ?? [];
      limiterCpuRatios.push(median(c.map((us, round) => (cpuSamples[0]?.[round] ?? 0) / (us || 1))));
    }
    for (const s of servers) await s.close();

    console.log('\n=== Results ===');
    for (const [i, r] of routes.entries())
      console.log(`${r.label.padEnd(44)} ${(auth.rps[i] ?? 0).toFixed(0).padStart(7)} req/s`);
    console.log(
      'Young-generation GC pause per request (median over rounds; requests that outlive a scavenge raise it):',
    );
    for (const [i, r] of routes.entries())
      console.log(`  ${r.label.padEnd(42)} ${(auth.youngGc[i] ?? 0).toFixed(1).padStart(6)} µs`);
    console.log(
      `key-authenticated /me ÷ public /status (same REST adapter)   ${pct(me / status)}   target ≥ 90 %`,
    );
    // Medians of per-round ratios, each against GET / measured in the same round.
    console.log(`REST /api/v1/me with a key ÷ GET / (plain Express)           ${pct(me)}   target ≥ 75 %`);
    console.log(
      `tRPC keys.current with a key ÷ GET / (plain Express)         ${pct(trpcMe)}   target ≥ 85 %`,
    );
    console.log('Same ratios by server CPU per request (steadier when the machine is shared):');
    console.log(`  REST /api/v1/me with a key ÷ GET /                          ${pct(meCpu)}`);
    console.log(`  tRPC keys.current with a key ÷ GET /                        ${pct(trpcMeCpu)}`);
    console.log(
      `SQL statements per 10,000 authenticated requests            ${String(statements).padStart(7)}     (${counted.requests} requests, ${counted.non2xx} non-2xx; target 0)`,
    );
    console.log(
      `usage flush for those 10,000 requests                       ${String(flushStatements).padStart(7)}     statement(s) (one upsert per flush, never one per request)`,
    );
    console.log(
      `/me with usage counting on ÷ off                            ${pct(usageOn / usageOff)}   (${usageOn.toFixed(0)} vs ${usageOff.toFixed(0)} req/s; target ≈ 100 %)`,
    );
    for (const [i, v] of variants.entries()) {
      const target = v.label === 'memory store' ? '   target ≥ 90 %' : '';
      console.log(
        `/me with rate limits, ${v.label.padEnd(14)} ÷ limits off   ${pct(limiterRatios[i] ?? 0)}   (${(limiterRps[i] ?? 0).toFixed(0)} req/s)${target}`,
      );
      console.log(
        `  same, by server CPU per request                           ${pct(limiterCpuRatios[i] ?? 0)}`,
      );
    }
    // Issue #17's three ratios together, each beside its target.
    const memory = variants.findIndex((v) => v.label === 'memory store');
    const verdict = (ratio: number, target: number) => (ratio >= target ? 'met' : 'NOT met');
    const targets: [string, number, number, number][] = [
      ['REST /api/v1/me with a key ÷ plain GET /', me, meCpu, 0.75],
      ['tRPC keys.current with a key ÷ plain GET /', trpcMe, trpcMeCpu, 0.85],
      [
        'rate limits on (memory) ÷ off, /api/v1/me',
        limiterRatios[memory] ?? 0,
        limiterCpuRatios[memory] ?? 0,
        0.9,
      ],
    ];
    console.log(
      `\n=== Targets (medians over ${ROUNDS} rounds in this run; by CPU per request in brackets) ===`,
    );
    for (const [label, ratio, cpuRatio, target] of targets)
      console.log(
        `${label.padEnd(44)} ${pct(ratio)}  (${pct(cpuRatio).trim()})   target ≥ ${target * 100} %  ${verdict(ratio, target)}`,
      );
    if (auth.failures > 0) console.log(`WARNING: ${auth.failures} failed requests during the comparison`);
  } finally {
    redis?.disconnect();
    await orm.close();
    await stopPg();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
