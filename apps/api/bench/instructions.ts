/**
 * `pnpm bench:instructions`: CPU instructions the server executes per request, counted by Valgrind's callgrind —
 * a figure that does not move with the load of a shared machine, unlike requests per second. For each scenario it
 * starts the API (bench/profile-server.ts) under `valgrind --tool=callgrind --instr-atstart=no`, warms it up
 * uninstrumented, switches counting on (`callgrind_control -i on`) for a fixed number of requests, off again, and
 * divides the instructions counted (every thread of the Node process: JIT code, GC, libuv, OpenSSL…; not the kernel)
 * by the requests served. Scenarios as in bench:profile; the ratios to `plain` are printed at the end. Work done on
 * timers (pool upkeep, GC and compiler threads) is counted per second of the window, so a loaded machine (slower
 * requests) raises every figure: compare scenarios of one run, or runs made side by side.
 *
 *   pnpm --filter @crowdee/api bench:instructions [plain rest trpc rest-limits]
 *   needs valgrind (Debian: apt-get install valgrind) and DATABASE_URL (the embedded PostgreSQL would run under
 *   Valgrind too); INSTR_REQUESTS (2000), INSTR_WARMUP (4000), BENCH_CONNECTIONS (8).
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS, type Scenario } from './profile.ts';
import type { ProfileParentMessage, ProfileServerMessage } from './profile-server.ts';
import { load } from './run.ts';

const REQUESTS = Number(process.env.INSTR_REQUESTS ?? 2000);
const WARMUP = Number(process.env.INSTR_WARMUP ?? 4000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

/**
 * The `totals:` line of a callgrind output file: instructions executed (Ir) while counting was on. (`summary:` is
 * 0 when counting was off at exit.)
 */
export function totalInstructions(callgrindOut: string): number {
  const line = callgrindOut.split('\n').find((l) => l.startsWith('totals:'));
  if (!line) throw new Error('no totals in the callgrind output');
  return Number(line.split(/\s+/)[1]);
}

async function countScenario(
  scenario: Scenario,
  dir: string,
): Promise<{ perRequest: number; requests: number; non2xx: number }> {
  const child = fork(join(import.meta.dirname, 'profile-server.ts'), [], {
    execPath: 'valgrind',
    execArgv: [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${join(dir, 'callgrind.out.%p')}`,
      '--quiet',
      process.execPath,
      '--import',
      'tsx',
    ],
    env: { ...process.env, PROFILE_RATE_LIMITS: scenario.limits ? 'memory' : 'off' },
  });
  const ready = await new Promise<ProfileServerMessage>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited early (code ${code})`)));
    child.once('message', resolve);
  });
  if (ready.kind !== 'ready') throw new Error('server did not report ready');
  const job = {
    url: `${ready.url}${scenario.path}`,
    headers: scenario.withKey
      ? { authorization: `Bearer ${ready.key}` }
      : ({ accept: 'application/json' } as Record<string, string>),
    connections: CONNECTIONS,
  };
  // Warm up until V8 has optimised the hot path, uninstrumented (Valgrind still translates, so slowly).
  await load({ ...job, amount: WARMUP });
  const pid = String(child.pid);
  execFileSync('callgrind_control', ['-i', 'on', pid], { stdio: 'ignore' });
  const result = await load({ ...job, amount: REQUESTS });
  execFileSync('callgrind_control', ['-i', 'off', pid], { stdio: 'ignore' });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.send({ kind: 'stop' } satisfies ProfileParentMessage);
  await exited;
  const file = readdirSync(dir).find((f) => f.startsWith('callgrind.out.'));
  if (!file) throw new Error(`no callgrind output in ${dir}`);
  const total = totalInstructions(readFileSync(join(dir, file), 'utf8'));
  return { perRequest: total / result.requests, requests: result.requests, non2xx: result.non2xx };
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL)
    throw new Error('set DATABASE_URL (the embedded PostgreSQL would run under Valgrind)');
  const names = process.argv.slice(2).filter((a) => a !== '--');
  const chosen = names.length > 0 ? names : ['plain', 'rest', 'trpc', 'rest-limits'];
  const work = mkdtempSync(join(tmpdir(), 'crowdee-instructions-'));
  console.log(
    `Crowdee API instructions per request — callgrind, ${REQUESTS} counted requests after ${WARMUP} warm-up, ${CONNECTIONS} connections, Node ${process.version}`,
  );
  const counts = new Map<string, number>();
  try {
    for (const [i, name] of chosen.entries()) {
      const scenario = SCENARIOS[name];
      if (!scenario)
        throw new Error(`unknown scenario ${name}; pick from ${Object.keys(SCENARIOS).join(', ')}`);
      const { perRequest, requests, non2xx } = await countScenario(
        scenario,
        mkdtempSync(join(work, `${i}-`)),
      );
      counts.set(name, perRequest);
      console.log(
        `${scenario.label.padEnd(60)} ${(perRequest / 1000).toFixed(0).padStart(7)} k instructions/request (${requests} requests, ${non2xx} non-2xx)`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const plain = counts.get('plain');
  const rest = counts.get('rest');
  if (plain) {
    for (const [name, perRequest] of counts)
      if (name !== 'plain')
        console.log(
          `plain ÷ ${name.padEnd(12)} ${((plain / perRequest) * 100).toFixed(1).padStart(6)} %  (what one core would serve, relative)`,
        );
  }
  if (rest && counts.has('rest-limits'))
    console.log(
      `rest ÷ rest-limits ${(((rest / (counts.get('rest-limits') ?? 1)) * 100).toFixed(1)).padStart(6)} %  (limits on ÷ off)`,
    );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
