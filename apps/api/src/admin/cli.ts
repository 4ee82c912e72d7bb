/**
 * Operator commands. Usage:
 *   pnpm --filter @crowdee/api admin limits set --org <id> --quota 5000 --window 1m --reason "nightly sync" [--until 2027-01-31]
 *   pnpm --filter @crowdee/api admin limits set --key <id> --quota 3000 --window 60 --reason "..."
 *   pnpm --filter @crowdee/api admin limits list [--all] [--json]
 *   pnpm --filter @crowdee/api admin limits remove <override-id>
 *   pnpm --filter @crowdee/api admin limits requests list [--all] [--json]
 *   pnpm --filter @crowdee/api admin limits requests approve <request-id> [--note TEXT] [--by NAME]
 *   pnpm --filter @crowdee/api admin limits requests deny <request-id> --note TEXT [--by NAME]
 * Uses DATABASE_URL, or the embedded database under DATA_DIR (the running server's, if it is up).
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isDomainError, parseRateSpec } from '@crowdee/core';
import { openDatabase, type RunningPostgres, runningEmbeddedUrl, startEmbeddedPostgres } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type Config, loadConfig } from '../config.ts';
import { announceInvalidation } from '../invalidation/index.ts';
import { createLogger } from '../logger.ts';
import { Mailer } from '../mail/mailer.ts';
import {
  decideLimitRequest,
  listLimitRequests,
  type OperatorRequestView,
} from '../services/limit-requests.service.ts';
import { listOverrides, removeOverride, setOverride } from './rate-limit-overrides.ts';

const HELP = `crowdee admin — operator commands

  limits set (--org ID | --key ID) --quota N --window W --reason TEXT [--until DATE] [--by NAME]
        Grant a higher rate limit to every key of an organization, or to one key. W is seconds or 30s/1m/1h.
        Takes effect within seconds on running servers; no restart.
  limits list [--all] [--json]     Active overrides (--all: expired ones too).
  limits remove ID                 Remove an override.
  limits requests list [--all] [--json]
        Limit requests organizations sent from Settings → Limits (--all: decided ones too).
  limits requests approve ID [--note TEXT] [--by NAME]
        Creates the organization's override (its quota, window and end date) and tells the requester.
  limits requests deny ID --note TEXT [--by NAME]
        Declines, with a note the requester sees.
`;

function fail(message: string): never {
  console.error(`error: ${message}\n\n${HELP}`);
  process.exit(2);
}

/** Running servers re-read overrides at once when told (and every 5 s regardless, should the message be lost). */
async function announceOverrideChange(config: Config, em: EntityManager): Promise<void> {
  try {
    await announceInvalidation(config, em, `admin-cli-${process.pid}`, {
      cause: 'rate-limit.override_changed',
      targets: [{ kind: 'rate-limits' }],
    });
  } catch (error) {
    console.error(
      `warning: running servers were not notified (${(error as Error).message}); they pick the change up within 5 s`,
    );
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      org: { type: 'string' },
      key: { type: 'string' },
      quota: { type: 'string' },
      window: { type: 'string' },
      reason: { type: 'string' },
      until: { type: 'string' },
      by: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      note: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [area, command, arg, arg2] = positionals;
  if (values.help || !area) {
    console.log(HELP);
    return;
  }
  if (area !== 'limits' || !command) fail(`unknown command "${positionals.join(' ')}"`);

  const config = loadConfig();
  let embedded: RunningPostgres | undefined;
  let url = config.databaseUrl ?? runningEmbeddedUrl(join(config.dataDir, 'postgres'));
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres') });
    url = embedded.url;
  }
  const orm = await openDatabase({ url, poolMax: 2 });
  const em = orm.em.fork();
  const now = new Date();
  try {
    if (command === 'set') {
      const quota = Number(values.quota);
      const window = parseRateSpec(`1/${values.window ?? ''}`)?.windowSeconds;
      if (!Number.isInteger(quota) || window === undefined)
        fail('--quota (a whole number) and --window are required');
      const until = values.until ? new Date(values.until) : null;
      if (until && Number.isNaN(until.getTime())) fail('--until is not a date');
      const created = await setOverride(
        em,
        {
          orgId: values.org,
          keyId: values.key,
          quota,
          windowSeconds: window,
          reason: values.reason ?? '',
          expiresAt: until,
          createdBy: values.by ?? process.env.USER ?? userInfo().username,
        },
        now,
      );
      await announceOverrideChange(config, em);
      console.log(
        values.json
          ? JSON.stringify(created)
          : `override ${created.id}: ${created.target} → ${created.quota} per ${created.windowSeconds} s`,
      );
    } else if (command === 'list') {
      const rows = await listOverrides(em, values.all === true, now);
      if (values.json) console.log(JSON.stringify(rows));
      else if (rows.length === 0) console.log('no overrides');
      else
        for (const r of rows)
          console.log(
            `${r.id}  ${r.target}  ${r.quota}/${r.windowSeconds}s  until ${r.expiresAt ?? 'forever'}  by ${r.createdBy}: ${r.reason}`,
          );
    } else if (command === 'requests') {
      await limitRequests(config, em, arg, arg2, values, now);
    } else if (command === 'remove') {
      if (!arg) fail('give the override id');
      if (!(await removeOverride(em, arg))) fail(`no override ${arg}`);
      await announceOverrideChange(config, em);
      console.log(`removed ${arg}`);
    } else {
      fail(`unknown command "limits ${command}"`);
    }
  } catch (error) {
    if (isDomainError(error)) fail(error.message);
    throw error;
  } finally {
    await orm.close();
    await embedded?.stop();
  }
}

function describeRequest(r: OperatorRequestView): string {
  const until = r.until ? ` until ${r.until}` : '';
  const decided =
    r.status === 'pending'
      ? ''
      : ` — ${r.status} by ${r.decidedBy ?? '?'}${r.decisionNote ? `: ${r.decisionNote}` : ''}`;
  return `${r.id}  ${r.status}  org ${r.orgId} (${r.orgName})  ${r.quota}/${r.windowSeconds}s${until}  by ${r.requesterEmail ?? 'a former member'}: ${r.justification}${decided}`;
}

async function limitRequests(
  config: Config,
  em: EntityManager,
  action: string | undefined,
  id: string | undefined,
  values: {
    all?: boolean | undefined;
    json?: boolean | undefined;
    note?: string | undefined;
    by?: string | undefined;
  },
  now: Date,
): Promise<void> {
  if (action === 'list') {
    const rows = await listLimitRequests(em, values.all === true);
    if (values.json) console.log(JSON.stringify(rows));
    else if (rows.length === 0) console.log(values.all ? 'no limit requests' : 'no pending limit requests');
    else for (const r of rows) console.log(describeRequest(r));
    return;
  }
  if (action !== 'approve' && action !== 'deny') fail(`unknown command "limits requests ${action ?? ''}"`);
  if (!id || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    fail('give the request id (a UUID, from "limits requests list")');
  if (action === 'deny' && !values.note?.trim()) fail('say why (--note): the requester sees it');
  // The requester hears the outcome by mail (SMTP_URL, or an .eml file under DATA_DIR/mail without it).
  const mailer = new Mailer({
    smtpUrl: config.mail.smtpUrl,
    from: config.mail.from,
    mailDir: config.mail.dir,
    // Warnings to stderr: stdout stays the command's answer (JSON with --json).
    logger: createLogger({ logLevel: 'warn' }, process.stderr),
  });
  try {
    const decided = await decideLimitRequest(
      em,
      mailer,
      config.publicUrl ?? `http://localhost:${config.port}`,
      {
        id,
        approve: action === 'approve',
        note: values.note?.trim() || null,
        by: values.by ?? process.env.USER ?? userInfo().username,
      },
      now,
    );
    if (decided.overrideId) await announceOverrideChange(config, em);
    console.log(values.json ? JSON.stringify(decided) : describeRequest(decided));
  } finally {
    await mailer.drain();
    mailer.close();
  }
}

await main();
