/**
 * `pnpm bench:profile`: where the request path spends its CPU. For each scenario it starts the API in a child
 * process under `node --cpu-prof`, warms it up, loads it with autocannon (in a process of its own), stops it so
 * Node writes the profile, and prints the top self-time by function and by module — counting only the samples
 * taken while the load ran (start-up and shutdown excluded).
 *
 *   pnpm --filter @crowdee/api bench:profile [rest|trpc|plain|rest-limits …]
 *   DATABASE_URL (else each server starts an embedded PostgreSQL as its own child, like `pnpm start`),
 *   PROFILE_SECONDS (10), PROFILE_TOP (15), BENCH_CONNECTIONS (32), PROFILE_KEEP=1 keeps the .cpuprofile files
 *   (in a temporary folder, printed; open them in Chrome DevTools) — profiles are never committed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { ProfileParentMessage, ProfileServerMessage } from './profile-server.ts';
import { load } from './run.ts';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const TOP = Number(process.env.PROFILE_TOP ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export interface Scenario {
  label: string;
  path: string;
  withKey: boolean;
  /** Rate limits on, memory store (quotas too high to refuse anything). */
  limits?: boolean;
}

/**
 * `auth.me` is session-only (a key gets SESSION_REQUIRED), so the key-authenticated tRPC call profiled is
 * `keys.current`: the very procedure behind REST `GET /api/v1/me`.
 */
export const SCENARIOS: Record<string, Scenario> = {
  rest: { label: 'REST GET /api/v1/me (key)', path: '/api/v1/me', withKey: true },
  trpc: { label: 'tRPC GET /trpc/keys.current (key)', path: '/trpc/keys.current', withKey: true },
  plain: { label: 'plain Express GET / (public)', path: '/', withKey: false },
  'rest-limits': {
    label: 'REST GET /api/v1/me (key), rate limits on (memory store)',
    path: '/api/v1/me',
    withKey: true,
    limits: true,
  },
};

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The package or source file a frame belongs to: `express`, `node:internal/…`, `apps/api/src/app.ts`, `(gc)`. */
export function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(V8 builtins / native)';
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules !== -1) {
    const [scope = '', name = ''] = url.slice(nodeModules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) return url;
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  return file.startsWith(REPO_ROOT) ? relative(REPO_ROOT, file) : file;
}

/** Self time (µs) per function and per module, over the samples stamped between `from` and `to`. */
export function summarise(profile: CpuProfile, from: number, to: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const weight = profile.timeDeltas[i + 1] ?? 0;
    if (at < from || at > to) continue;
    const node = byId.get(profile.samples[i] ?? -1);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    // Waiting for the next request is not work: shares are of the time the process was busy.
    if (functionName === '(idle)' && !url) {
      idle += weight;
      continue;
    }
    const module = moduleOf(url, functionName);
    const name = `${functionName || '(anonymous)'}  ${module}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + weight);
    byModule.set(module, (byModule.get(module) ?? 0) + weight);
    total += weight;
  }
  return { byFunction, byModule, total, idle };
}

function printTop(title: string, entries: Map<string, number>, total: number): void {
  console.log(`  ${title}`);
  const sorted = [...entries].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  for (const [name, micros] of sorted) {
    console.log(`    ${((micros / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
  }
}

function request(child: ChildProcess, message: ProfileParentMessage): void {
  child.send(message);
}

function nextMessage(child: ChildProcess): Promise<ProfileServerMessage> {
  return new Promise((resolveMessage, reject) => {
    const onExit = (code: number | null) => reject(new Error(`profile server exited early (code ${code})`));
    child.once('exit', onExit);
    child.once('message', (message: ProfileServerMessage) => {
      child.off('exit', onExit);
      resolveMessage(message);
    });
  });
}

async function mark(child: ChildProcess, name: string): Promise<number> {
  request(child, { kind: 'mark', name });
  const reply = await nextMessage(child);
  if (reply.kind !== 'mark') throw new Error(`expected a mark, got ${reply.kind}`);
  return reply.micros;
}

async function profileScenario(scenario: Scenario, dir: string): Promise<void> {
  const child = fork(join(import.meta.dirname, 'profile-server.ts'), [], {
    execArgv: ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', dir],
    env: { ...process.env, PROFILE_RATE_LIMITS: scenario.limits ? 'memory' : 'off' },
  });
  const ready = await nextMessage(child);
  if (ready.kind !== 'ready') throw new Error('profile server did not report ready');
  const job = {
    url: `${ready.url}${scenario.path}`,
    headers: scenario.withKey
      ? { authorization: `Bearer ${ready.key}` }
      : ({ accept: 'application/json' } as Record<string, string>),
    connections: CONNECTIONS,
  };
  await load({ ...job, durationSeconds: 2 });
  const from = await mark(child, 'start');
  const result = await load({ ...job, durationSeconds: SECONDS });
  const to = await mark(child, 'end');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  request(child, { kind: 'stop' });
  await exited;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  // With PROFILE_KEEP, the load window is kept beside the profile for other tools (µs on the profile's clock).
  if (process.env.PROFILE_KEEP === '1') writeFileSync(join(dir, 'window.json'), JSON.stringify({ from, to }));
  const { byFunction, byModule, total, idle } = summarise(profile, from, to);
  console.log(
    `\n${scenario.label}: ${result.rps.toFixed(0)} req/s, ${result.non2xx} non-2xx; ${(total / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle in ${SECONDS} s of load (shares below: of busy time)`,
  );
  printTop(`top ${TOP} self time by function`, byFunction, total);
  printTop(`top ${TOP} self time by module`, byModule, total);
}

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => a !== '--');
  const chosen = (names.length > 0 ? names : ['rest', 'trpc']).map((name) => {
    const scenario = SCENARIOS[name];
    if (!scenario)
      throw new Error(`unknown scenario ${name}; pick from ${Object.keys(SCENARIOS).join(', ')}`);
    return scenario;
  });
  const keep = process.env.PROFILE_KEEP === '1';
  const work = mkdtempSync(join(tmpdir(), 'crowdee-profile-'));
  console.log(
    `Crowdee API CPU profile — ${SECONDS}s of load per scenario, ${CONNECTIONS} connections, Node ${process.version}`,
  );
  try {
    for (const [i, scenario] of chosen.entries()) {
      await profileScenario(scenario, mkdtempSync(join(work, `${i}-`)));
    }
  } finally {
    if (keep) console.log(`\nProfiles kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
