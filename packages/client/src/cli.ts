/**
 * `crowdee` — the Crowdee API from a shell or a CI job.
 *
 * The key comes from CROWDEE_API_KEY or --api-key-file, never from a plain command-line value (it would show in
 * the process list and the shell history). Exit codes: 0 success, 1 the API refused or something failed,
 * 2 a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeClient as client, intFlag, out, resolveDataset, resolveOrg, UsageError } from './cli/common.ts';
import { createDataset, listDatasets } from './cli/datasets.ts';
import { uploadItems } from './cli/items-upload.ts';
import { ProgressDisplay } from './cli/progress.ts';
import { exportResults, getRun, startRun, waitForRun } from './cli/runs.ts';
import { readUploadSource } from './cli/upload-source.ts';
import { CrowdeeClient } from './client.ts';
import { CrowdeeApiError, CrowdeeConfigError } from './errors.ts';
import type { Me, NewProject } from './rest-types.ts';
import { scanPaths } from './scan.ts';
import { runBulk, ThrottleError } from './throttle/index.ts';

/** Commands named by two words (`projects list`). */
const GROUPS = new Set(['projects', 'keys', 'datasets', 'items', 'runs']);

/** Bytes of file content per multipart request (past its first file), and of JSON per text batch. */
const FILE_BATCH_BYTES = 32 * 1024 * 1024;
const TEXT_BATCH_BYTES = 8 * 1024 * 1024;

function clientVersion(): string {
  // dist/cli.js and src/cli.ts both sit one level below the package's package.json.
  return (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

const HELP: Record<string, string> = {
  main: `crowdee — call the Crowdee API

Usage: crowdee <command> [options]

Commands:
  whoami                          The key in use, its creator, and its role in each organization
  status                          Is the API reachable? (no key needed)
  projects list [--org ID]        An organization's projects
  projects import [--org ID] FILE Create projects from a JSON Lines file, throttled to the rate limit
  datasets create --project ID NAME   Create a dataset in a project
  datasets list --project ID      A project's datasets
  items upload --dataset ID DIR|FILE.jsonl   Upload files or text items in batches; resumable
  runs start --dataset ID [--wait]           Start a verification run (and follow it to the end)
  runs get RUN_ID --dataset ID [--wait]      A run's status and verdict counts
  runs results RUN_ID --dataset ID [--format jsonl|csv] [--verdict V]   Stream a run's results
  keys revoke-current             Revoke the key in use (when it may have leaked)
  scan [PATH…]                    Find leaked Crowdee API keys in files (offline); --report revokes them

Options for every command:
  --org ID              The organization (default: the only one the key reaches)
  --api-key-file PATH   Read the key from a file (default: the CROWDEE_API_KEY environment variable)
  --base-url URL        The API (default: CROWDEE_API_URL)
  --json                Machine-readable output on stdout
  -h, --help            Help for a command, e.g. crowdee projects import --help
  --version             The CLI's version
`,
  'datasets create': `crowdee datasets create --project ID NAME [--description TEXT] [--org ID] [--json]

Creates a dataset (a named set of items to verify) in a project. Prints its id, which the items and runs
commands take as --dataset.
`,
  'datasets list': `crowdee datasets list --project ID [--org ID] [--json]

Lists a project's datasets with their item counts.
`,
  'items upload': `crowdee items upload --dataset ID DIR|FILE|FILE.jsonl [--project ID] [--org ID]
                     [--batch-size N] [--concurrency N] [--json]

Uploads items into a dataset:
  DIR          every file under it (recursively; symbolic links, .git and node_modules are skipped);
               externalId = the path inside DIR (a/b.txt), item name = the file name, media type by extension
  FILE.jsonl   one text item per line: {"externalId": "…", "text": "…"}
  FILE         that one file (externalId = its name)
Batches of up to 100 files or 1,000 text items (--batch-size lowers it) go through the throttle, so the upload
runs as fast as the key's rate limit allows; each batch carries an Idempotency-Key, so a retried batch is never
stored twice. Progress (rate, ETA including rate-limit waits) goes to stderr; a summary to stdout at the end.

Resumable: the dataset's externalIds are listed first and items already there are skipped, so running the
same command again uploads only the rest. Ctrl-C stops cleanly: batches in flight finish, the summary says what
was done and prints the command to resume; exit code 130. A second Ctrl-C quits at once.
Exit code: 0 all uploaded (or already there), 1 some items failed (listed), 130 interrupted, 2 usage error.
`,
  'runs start': `crowdee runs start --dataset ID [--wait] [--project ID] [--org ID] [--json]

Starts a verification run over the dataset with the default pipeline. With --wait, follows it to the end:
polls with If-None-Match (an unchanged run answers 304, which costs no rate-limit unit) as often as the
server's Retry-After suggests, shows progress on stderr, and exits 0 only if the run succeeded (1 if it
failed or was cancelled). Ctrl-C stops the waiting, not the run.
`,
  'runs get': `crowdee runs get RUN_ID --dataset ID [--wait] [--project ID] [--org ID] [--json]

A run's status, progress and verdict counts; with --wait, follows it to the end like runs start --wait.
`,
  'runs results': `crowdee runs results RUN_ID --dataset ID [--format jsonl|csv] [--verdict pass|flag|fail]
                   [--project ID] [--org ID]

Streams a run's results to stdout, one item per line, as they arrive: JSON Lines (default;
{"itemId", "externalId", "verdict", "reasons": [{"check", "verdict", "reason"}]}) or CSV (header
externalId,itemId,verdict,reasons; RFC 4180 quoting; reasons as "check (verdict): reason; …"; a field that
starts with = + - @ is prefixed with ' so spreadsheets do not run it as a formula).
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

Looks for Crowdee API keys (cdk_) and session tokens (cds_) in files and folders (default: the current
folder; "-" reads stdin). A match
counts only when its checksum holds, so random look-alikes are never reported. Prints PATH:LINE:COLUMN and
the key's hint (never the key). Skips .git and node_modules folders, symbolic links and files over 50 MB.
A line containing "crowdee-scan:allow" is not reported (for published test vectors only).
Exit code: 0 when nothing was found, 1 when keys were found (also after --report), 2 on a usage error.

  --report   Send the keys and tokens found to POST /api/v1/keys/revoke-leaked (public; needs no key of
             yours), which revokes every one that is still active. Uses --base-url / CROWDEE_API_URL.
`,
  'keys revoke-current': `crowdee keys revoke-current --yes [--json]

Revokes the key in use, at once. Use it when the key may have leaked. Needs --yes.
`,
};

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
  const progress = new ProgressDisplay('projects', { plainEveryMs: 2000 });
  const summary = await runBulk(
    items,
    async (item, _index, signal) => {
      if (!item.project) throw new Error(item.problem ?? 'invalid line');
      return c.rest.projects.create(orgId, item.project, { signal });
    },
    {
      concurrency,
      onProgress: (p) =>
        progress.update({
          done: p.done,
          total: p.total ?? items.length,
          failed: p.failed,
          pausedUntil: c.throttle?.stats().pausedUntil,
        }),
    },
  );
  progress.stop();
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
  const tokens = result.findings.filter((f) => f.kind === 'session-token').length;
  const human = [
    ...result.findings.map(
      (f) =>
        `${f.path}:${f.line}:${f.column}: Crowdee ${f.kind === 'key' ? 'API key' : 'session token'} ${f.hint}`,
    ),
    result.findings.length === 0
      ? `No Crowdee API keys or session tokens found (${result.filesScanned} file(s) scanned).`
      : `${result.findings.length} Crowdee ${tokens === 0 ? 'API key(s)' : tokens === result.findings.length ? 'session token(s)' : 'API key(s) and session token(s)'} found in ${files} file(s) (${result.filesScanned} scanned). Revoke them: crowdee scan --report, or Settings → API Keys${tokens > 0 ? ' and Settings → Sessions' : ''}.`,
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
      project: { type: 'string' },
      dataset: { type: 'string' },
      description: { type: 'string' },
      'batch-size': { type: 'string' },
      format: { type: 'string' },
      verdict: { type: 'string' },
      wait: { type: 'boolean' },
      yes: { type: 'boolean' },
      report: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  const json = values.json === true;
  const [first, second, ...rest] = positionals;
  const command = first && GROUPS.has(first) ? `${first} ${second ?? ''}`.trim() : (first ?? '');
  if (values.version) {
    process.stdout.write(`${clientVersion()}\n`);
    return 0;
  }
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
      const c = client(values);
      try {
        await checkKeyExpiry(c);
        const page = await c.rest.projects.list(await resolveOrg(c, values.org), {
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
      if (!file) throw new UsageError('projects import needs a FILE.jsonl');
      const concurrency = values.concurrency ? Number(values.concurrency) : 16;
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
        throw new UsageError('--concurrency must be 1–256');
      const c = client(values);
      try {
        // No extra /me here: an import spends exactly one request per line of the key's budget.
        return await projectsImport(c, await resolveOrg(c, values.org), file, concurrency, json);
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
    case 'datasets create':
    case 'datasets list': {
      const c = client(values);
      try {
        const orgId = await resolveOrg(c, values.org);
        return command === 'datasets create'
          ? await createDataset(
              c,
              orgId,
              values.project,
              rest.join(' ') || undefined,
              values.description,
              json,
            )
          : await listDatasets(c, orgId, values.project, json);
      } finally {
        await c.close();
      }
    }
    case 'items upload': {
      const path = rest[0];
      if (!path || rest.length > 1) throw new UsageError('items upload needs one DIR, FILE or FILE.jsonl');
      const source = readUploadSource(path);
      const concurrency = intFlag('concurrency', values.concurrency, 4, 64);
      const c = client(values, Math.max(8, concurrency));
      try {
        const ref = await resolveDataset(c, values);
        return await uploadItems(c, ref, source, {
          batchSize: intFlag('batch-size', values['batch-size'], 1000, 1000),
          batchBytes: source.kind === 'files' ? FILE_BATCH_BYTES : TEXT_BATCH_BYTES,
          concurrency,
          json,
          argv,
        });
      } finally {
        await c.close();
      }
    }
    case 'runs start':
    case 'runs get':
    case 'runs results': {
      const runId = rest[0];
      if (command !== 'runs start' && !runId) throw new UsageError(`${command} needs a RUN_ID`);
      const c = client(values);
      try {
        const ref = await resolveDataset(c, values);
        if (command === 'runs start') return await startRun(c, ref, values.wait === true, json);
        if (!runId) throw new UsageError(`${command} needs a RUN_ID`);
        if (command === 'runs results')
          return await exportResults(c, ref, runId, values.format, values.verdict);
        return values.wait ? await waitForRun(c, ref, runId, json) : await getRun(c, ref, runId, json);
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
