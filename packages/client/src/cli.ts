/**
 * `crowdee` — the Crowdee API from a shell or a CI job.
 *
 * The key comes from CROWDEE_API_KEY or --api-key-file, never from a plain command-line value (it would show in
 * the process list and the shell history). Exit codes: 0 success, 1 the API refused or something failed,
 * 2 a usage error.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CrowdeeClient } from './client.ts';
import { CrowdeeApiError, CrowdeeConfigError } from './errors.ts';
import type { Me, NewProject } from './rest.ts';
import { scanPaths } from './scan.ts';
import { type BulkProgress, runBulk, ThrottleError } from './throttle/index.ts';

const HELP: Record<string, string> = {
  main: `crowdee — call the Crowdee API

Usage: crowdee <command> [options]

Commands:
  whoami                          The key in use, its creator, and its role in each organization
  status                          Is the API reachable? (no key needed)
  projects list --org ID          An organization's projects
  projects import --org ID FILE   Create projects from a JSON Lines file, throttled to the rate limit
  keys revoke-current             Revoke the key in use (when it may have leaked)
  scan [PATH…]                    Find leaked Crowdee API keys in files (offline); --report revokes them

Options for every command:
  --api-key-file PATH   Read the key from a file (default: the CROWDEE_API_KEY environment variable)
  --base-url URL        The API (default: CROWDEE_API_URL)
  --json                Machine-readable output on stdout
  -h, --help            Help for a command, e.g. crowdee projects import --help
`,
  whoami: `crowdee whoami [--json]

Shows the key in use (by its hint), its role and scope, its creator, and its effective role in each
organization it can act on: min(key role, creator's current role). A key restricted to some permissions
lists them. whoami and projects list warn on stderr when the key expires within 7 days.
`,
  status: `crowdee status [--json]

Checks that the API answers, and prints its version. Needs no key.
`,
  'projects list': `crowdee projects list --org ID [--limit N] [--offset N] [--json]

Lists an organization's projects (default limit 50, maximum 100).
`,
  'projects import': `crowdee projects import --org ID FILE.jsonl [--concurrency N] [--json]

Creates one project per line of FILE, each line a JSON object: {"name": "…", "description": "…"}.
Requests go through the throttle, so the import runs as fast as the key's rate limit allows and no faster.
Shows progress, rate and ETA on stderr, then a summary. A line that fails never stops the others; the exit
code is 1 when any line failed, and the failures are listed with their line numbers.
`,
  scan: `crowdee scan [PATH…] [--report] [--json]

Looks for Crowdee API keys in files and folders (default: the current folder; "-" reads stdin). A match
counts only when its checksum holds, so random look-alikes are never reported. Prints PATH:LINE:COLUMN and
the key's hint (never the key). Skips .git and node_modules folders, symbolic links and files over 50 MB.
A line containing "crowdee-scan:allow" is not reported (for published test vectors only).
Exit code: 0 when nothing was found, 1 when keys were found (also after --report), 2 on a usage error.

  --report   Send the keys found to POST /api/v1/keys/revoke-leaked (public; needs no key of yours),
             which revokes every one that is still active. Uses --base-url / CROWDEE_API_URL.
`,
  'keys revoke-current': `crowdee keys revoke-current --yes [--json]

Revokes the key in use, at once. Use it when the key may have leaked. Needs --yes.
`,
};

class UsageError extends Error {}

/**
 * The key's last 7 days (the server's `expiresSoon`, packages/core's rule): say so on stderr, where it cannot
 * break a script that parses stdout, so whoever runs the job rotates the key before it stops.
 */
function warnIfExpiringSoon(me: Pick<Me, 'key'>): void {
  if (!me.key.expiresSoon || me.key.expiresAt === null) return;
  process.stderr.write(
    `crowdee: warning: the key ${me.key.hint} expires ${me.key.expiresAt}, within 7 days. Rotate it in Settings → API Keys.\n`,
  );
}

/** For commands that do not read /me anyway: one extra call, and a failure here never stops the command itself. */
async function checkKeyExpiry(c: CrowdeeClient): Promise<void> {
  try {
    warnIfExpiringSoon(await c.rest.me());
  } catch {
    // The command's own request reports any problem with the key.
  }
}

function out(json: boolean, human: string, data: unknown): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

function readKeyFile(path: string): string {
  try {
    const mode = statSync(path).mode;
    if (mode & 0o077) {
      process.stderr.write(`warning: ${path} is readable by other users; chmod 600 it\n`);
    }
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`cannot read --api-key-file ${path}: ${(error as Error).message}`);
  }
}

function client(values: {
  'api-key-file'?: string | undefined;
  'base-url'?: string | undefined;
}): CrowdeeClient {
  return new CrowdeeClient({
    ...(values['api-key-file'] ? { apiKey: readKeyFile(values['api-key-file']) } : {}),
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    throttle: { maxConcurrent: 8 },
  });
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function progressLine(p: BulkProgress): string {
  const total = p.total ?? 0;
  const width = 24;
  const filled = total > 0 ? Math.round((p.done / total) * width) : 0;
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const pct = total > 0 ? Math.floor((p.done / total) * 100) : 0;
  const eta = p.etaMs === undefined ? '?' : formatDuration(p.etaMs);
  return `[${bar}] ${p.done}/${total} ${pct}%  ${p.ratePerSecond.toFixed(1)}/s  ETA ${eta}  ${p.failed} failed`;
}

interface ImportLine {
  line: number;
  project: NewProject | null;
  problem: string | null;
}

function readJsonl(path: string): ImportLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const items: ImportLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    try {
      const value = JSON.parse(raw) as { name?: unknown; description?: unknown };
      if (typeof value !== 'object' || value === null || typeof value.name !== 'string') {
        items.push({ line: i + 1, project: null, problem: 'expected an object with a string "name"' });
        return;
      }
      const project: NewProject = { name: value.name };
      if (typeof value.description === 'string' || value.description === null)
        project.description = value.description;
      items.push({ line: i + 1, project, problem: null });
    } catch {
      items.push({ line: i + 1, project: null, problem: 'not valid JSON' });
    }
  });
  return items;
}

async function projectsImport(
  c: CrowdeeClient,
  orgId: string,
  file: string,
  concurrency: number,
  json: boolean,
): Promise<number> {
  const items = readJsonl(file);
  const tty = process.stderr.isTTY === true;
  let lastPrint = 0;
  const summary = await runBulk(
    items,
    async (item, _index, signal) => {
      if (!item.project) throw new Error(item.problem ?? 'invalid line');
      return c.rest.projects.create(orgId, item.project, { signal });
    },
    {
      concurrency,
      onProgress: (p) => {
        const now = Date.now();
        if (tty) process.stderr.write(`\r${progressLine(p)}`);
        else if (now - lastPrint >= 2000 || p.done === p.total) {
          lastPrint = now;
          process.stderr.write(`${progressLine(p)}\n`);
        }
      },
    },
  );
  if (tty) process.stderr.write('\n');
  const stats = c.throttle?.stats();
  const failures = summary.failed.map((f) => {
    const error = f.error;
    const code =
      error instanceof CrowdeeApiError
        ? error.code
        : error instanceof ThrottleError
          ? error.code
          : 'INVALID_LINE';
    return { line: f.item.line, code, message: error instanceof Error ? error.message : String(error) };
  });
  failures.sort((a, b) => a.line - b.line);
  const seconds = summary.durationMs / 1000;
  const result = {
    total: summary.total,
    created: summary.succeeded,
    failed: failures.length,
    seconds: Number(seconds.toFixed(2)),
    ratePerSecond: Number((summary.total / Math.max(seconds, 0.001)).toFixed(2)),
    rateLimited: stats?.rateLimited ?? 0,
    retries: stats?.retries ?? 0,
    requests: stats?.sent ?? 0,
    failures,
  };
  const human = [
    `Imported ${result.created} of ${result.total} projects in ${seconds.toFixed(1)} s (${result.ratePerSecond}/s).`,
    `Requests: ${result.requests}, answered 429: ${result.rateLimited}, retried: ${result.retries}.`,
    ...(failures.length > 0
      ? [`${failures.length} failed:`, ...failures.map((f) => `  line ${f.line}: ${f.code} ${f.message}`)]
      : []),
  ].join('\n');
  out(json, human, result);
  return failures.length > 0 ? 1 : 0;
}

/** Leak reports are accepted 100 keys at a time (the endpoint's limit). */
const REPORT_BATCH = 100;

async function scan(
  paths: string[],
  values: { report?: boolean | undefined; 'base-url'?: string | undefined },
  json: boolean,
): Promise<number> {
  const result = scanPaths(paths.length > 0 ? paths : ['.'], () => readFileSync(0, 'latin1'));
  for (const s of result.skipped) process.stderr.write(`crowdee scan: skipped ${s.path}: ${s.reason}\n`);
  let report: { sent: number; revoked: number } | undefined;
  if (values.report && result.keys.length > 0) {
    const unique = [...new Set(result.keys)];
    const c = new CrowdeeClient({
      ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
      throttle: { maxConcurrent: 1 },
    });
    try {
      let revoked = 0;
      for (let i = 0; i < unique.length; i += REPORT_BATCH) {
        revoked += (await c.rest.keys.revokeLeaked(unique.slice(i, i + REPORT_BATCH))).revoked;
      }
      report = { sent: unique.length, revoked };
    } finally {
      await c.close();
    }
  }
  const files = new Set(result.findings.map((f) => f.path)).size;
  const human = [
    ...result.findings.map((f) => `${f.path}:${f.line}:${f.column}: Crowdee API key ${f.hint}`),
    result.findings.length === 0
      ? `No Crowdee API keys found (${result.filesScanned} file(s) scanned).`
      : `${result.findings.length} Crowdee API key(s) found in ${files} file(s) (${result.filesScanned} scanned). Revoke them: crowdee scan --report, or Settings → API Keys.`,
    ...(report
      ? [
          `Reported ${report.sent} key(s) to the leak endpoint: ${report.revoked} were active and are now revoked.`,
        ]
      : []),
  ].join('\n');
  out(json, human, {
    findings: result.findings,
    filesScanned: result.filesScanned,
    skipped: result.skipped,
    ...(report ? { report } : {}),
  });
  return result.findings.length > 0 ? 1 : 0;
}

async function run(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--api-key' || a.startsWith('--api-key='))) {
    throw new UsageError(
      'refusing --api-key: a key on the command line shows in the process list and shell history. Set CROWDEE_API_KEY or use --api-key-file.',
    );
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'api-key-file': { type: 'string' },
      'base-url': { type: 'string' },
      org: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      concurrency: { type: 'string' },
      yes: { type: 'boolean' },
      report: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  const json = values.json === true;
  const [first, second, ...rest] = positionals;
  const command =
    first === 'projects' || first === 'keys' ? `${first} ${second ?? ''}`.trim() : (first ?? '');
  if (values.help || !first) {
    process.stdout.write(HELP[command] ?? HELP.main ?? '');
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'status': {
      const c = new CrowdeeClient({
        ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
        throttle: false,
      });
      const s = await c.rest.status();
      out(json, `ok — Crowdee API ${s.version} at ${c.baseUrl}`, s);
      return 0;
    }
    case 'whoami': {
      const c = client(values);
      try {
        const me = await c.rest.me();
        warnIfExpiringSoon(me);
        const scope =
          me.key.scope === null
            ? 'all of the creator’s organizations'
            : `${me.key.scope.length} organization(s)`;
        const lines = [
          `Key ${me.key.hint} "${me.key.name}" — role ${me.key.role}, scope: ${scope}, expires ${me.key.expiresAt ?? 'never'}`,
          `Created by ${me.creator.name} <${me.creator.email}>`,
          ...(me.organizations.length === 0
            ? ['Acts on no organization (its creator belongs to none it may reach).']
            : me.organizations.map(
                (o) =>
                  `  ${o.name} (${o.id}): ${o.effectiveRole}${o.effectiveRole !== me.key.role ? ` (capped by the creator’s role ${o.creatorRole})` : ''}${me.key.permissions === null ? '' : ` — only ${o.permissions.join(', ') || 'nothing'}`}`,
              )),
        ];
        out(json, lines.join('\n'), me);
        return 0;
      } finally {
        await c.close();
      }
    }
    case 'projects list': {
      if (!values.org) throw new UsageError('projects list needs --org ID');
      const c = client(values);
      try {
        await checkKeyExpiry(c);
        const page = await c.rest.projects.list(values.org, {
          ...(values.limit ? { limit: Number(values.limit) } : {}),
          ...(values.offset ? { offset: Number(values.offset) } : {}),
        });
        const lines = page.items.map(
          (p) => `${p.id}  ${p.name}${p.description ? ` — ${p.description}` : ''}`,
        );
        lines.push(`${page.items.length} of ${page.total} project(s)`);
        out(json, lines.join('\n'), page);
        return 0;
      } finally {
        await c.close();
      }
    }
    case 'projects import': {
      const file = rest[0];
      if (!values.org || !file) throw new UsageError('projects import needs --org ID and a FILE.jsonl');
      const concurrency = values.concurrency ? Number(values.concurrency) : 16;
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
        throw new UsageError('--concurrency must be 1–256');
      const c = client(values);
      try {
        // No extra /me here: an import spends exactly one request per line of the key's budget.
        return await projectsImport(c, values.org, file, concurrency, json);
      } finally {
        await c.close();
      }
    }
    case 'keys revoke-current': {
      if (!values.yes) throw new UsageError('keys revoke-current stops the key at once: confirm with --yes');
      const c = client(values);
      try {
        await c.rest.keys.revokeCurrent();
        out(json, `Revoked ${c.keyHint}. It will not work again; create a new one in Settings → API Keys.`, {
          revoked: c.keyHint,
        });
        return 0;
      } finally {
        await c.close();
      }
    }
    case 'scan':
      return scan(
        [second, ...rest].filter((p): p is string => p !== undefined),
        values,
        json,
      );
    default:
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`crowdee: ${error.message}\nRun "crowdee --help" for usage.\n`);
      return 2;
    }
    if (error instanceof CrowdeeConfigError) {
      process.stderr.write(`crowdee: ${error.message}\n`);
      return 2;
    }
    if (error instanceof CrowdeeApiError) {
      const hint = error.retryAfter
        ? ` (retry in ${error.retryAfter} s)`
        : error.requiredRole
          ? ` (needs the ${error.requiredRole} role)`
          : error.requiredPermission
            ? ` (the key lacks ${error.requiredPermission})`
            : '';
      process.stderr.write(`crowdee: ${error.status} ${error.code}: ${error.message}${hint}\n`);
      return 1;
    }
    process.stderr.write(`crowdee: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
