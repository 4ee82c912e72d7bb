/**
 * Asking for more: an org admin requests a higher limit in the app (limits.request), an operator lists and decides
 * it with `admin limits requests`, approval creates the override that every request then runs under, and the
 * requester sees the outcome (limits.get, and a mail). The operator command runs as a real child process.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode, keyClient } from './helpers/http-client.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let folks: Record<string, Person>;
const person = (name: string): Person => {
  const found = folks[name];
  if (!found) throw new Error(`no person ${name}`);
  return found;
};

beforeAll(async () => {
  app = await startTestApp({
    limits: { policies: { authenticated: { quota: 100, windowSeconds: 60 } }, overrideRefreshMs: 3_600_000 },
    // The operator command announces the new override on PostgreSQL: this node hears it (no polling here).
    invalidation: { channel: 'postgres' },
  });
  folks = await people(app, ['Olga', 'Abe', 'Meg', 'Zed']);
});
afterAll(async () => {
  await app?.close();
});

/** Asynchronously: the test's own SMTP server must keep answering while the command mails the requester. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src/admin/cli.ts', ...args],
    { env: { ...process.env, DATABASE_URL: app.dbUrl, LOG_LEVEL: 'silent', SMTP_URL: app.mailbox.smtpUrl } },
  );
  return stdout;
}

async function cliFails(...args: string[]): Promise<number | undefined> {
  try {
    await cli(...args);
    return 0;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}

describe('limit requests', () => {
  it('flow from the app to the operator command and back: approval puts the override in force', async () => {
    const org = await orgWith(person('Olga'), 'Heavy sync', [
      { person: person('Abe'), role: 'admin' },
      { person: person('Meg'), role: 'member' },
    ]);
    const olga = person('Olga').browser.trpc;
    const before = await olga.limits.get.query({ orgId: org.id });
    expect(before.base).toEqual({ quota: 100, windowSeconds: 60 });
    expect(before.effective).toEqual({ quota: 100, windowSeconds: 60 });
    expect(before.requests).toEqual([]);

    const until = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const asked = await olga.limits.request.mutate({
      orgId: org.id,
      quota: 5000,
      windowSeconds: 60,
      justification: 'Nightly sync of 40k projects from our ERP',
      until,
    });
    expect(asked).toMatchObject({ status: 'pending', quota: 5000, requestedBy: { name: 'Olga' } });
    // One waits at a time; members and keys cannot ask; bad fields are named.
    expect(
      await errorCode(
        person('Abe').browser.trpc.limits.request.mutate({
          orgId: org.id,
          quota: 9000,
          windowSeconds: 60,
          justification: 'A second request while one waits',
        }),
      ),
    ).toBe('LIMIT_REQUEST_PENDING');
    expect(
      await errorCode(
        person('Meg').browser.trpc.limits.request.mutate({
          orgId: org.id,
          quota: 9000,
          windowSeconds: 60,
          justification: 'Members may not ask for the org',
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(await errorCode(person('Zed').browser.trpc.limits.get.query({ orgId: org.id }))).toBe('NOT_FOUND');
    const { key } = await keyFor(person('Olga'), org.id, { role: 'admin' });
    expect(await errorCode(keyClient(app.url, key).limits.get.query({ orgId: org.id }))).toBe(
      'SESSION_REQUIRED',
    );

    const pending = JSON.parse(await cli('limits', 'requests', 'list', '--json')) as {
      id: string;
      orgName: string;
    }[];
    expect(pending.map((r) => r.id)).toEqual([asked.id]);
    expect(pending[0]?.orgName).toBe('Heavy sync');

    const approveOut = await cli(
      'limits',
      'requests',
      'approve',
      asked.id,
      '--note',
      'Go ahead',
      '--by',
      'ops-ann',
      '--json',
    );
    const approved = JSON.parse(approveOut) as { status: string; overrideId: string };
    expect(approved.status).toBe('approved');
    // Decided once: a second decision is refused (exit 2), and nothing is pending any more.
    expect(await cliFails('limits', 'requests', 'deny', asked.id, '--note', 'changed my mind')).toBe(2);
    expect(await cli('limits', 'requests', 'list')).toContain('no pending limit requests');

    const after = await olga.limits.get.query({ orgId: org.id });
    expect(after.effective).toEqual({ quota: 5000, windowSeconds: 60 });
    expect(after.overrides.map((o) => o.id)).toEqual([approved.overrideId]);
    expect(after.requests[0]).toMatchObject({ status: 'approved', decisionNote: 'Go ahead' });
    // In force: the key's requests in this organization now run under the granted budget (applied on this node
    // when the command's announcement arrives).
    await expect
      .poll(async () =>
        (await rest(app.url, key, 'GET', `/orgs/${org.id}/projects`)).headers.get('ratelimit-policy'),
      )
      .toBe('"user";q=5000;w=60');
    const mail = await person('Olga').mailbox.take(person('Olga').email, 'settings/limits');
    expect(mail.subject).toBe('Your higher limit for Heavy sync is approved');
    const audit = await olga.audit.list.query({ orgId: org.id });
    expect(audit.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['limit.requested', 'limit.request_approved']),
    );
  });

  it('a denial is seen in the app with its note, and creates no override', async () => {
    const org = await orgWith(person('Abe'), 'Denied');
    const abe = person('Abe').browser.trpc;
    const asked = await abe.limits.request.mutate({
      orgId: org.id,
      quota: 1_000_000,
      windowSeconds: 1,
      justification: 'We would like everything, please',
    });
    expect(await cliFails('limits', 'requests', 'deny', asked.id)).toBe(2);
    await cli('limits', 'requests', 'deny', asked.id, '--note', 'Tell us about the workload first');
    const after = await abe.limits.get.query({ orgId: org.id });
    expect(after.requests[0]).toMatchObject({
      status: 'denied',
      decisionNote: 'Tell us about the workload first',
    });
    expect(after.overrides).toEqual([]);
    expect(after.effective).toEqual({ quota: 100, windowSeconds: 60 });
    // Decided: the organization may ask again.
    const again = await abe.limits.request.mutate({
      orgId: org.id,
      quota: 500,
      windowSeconds: 60,
      justification: 'Import of 2k projects, one week',
      until: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    });
    expect(again.status).toBe('pending');
    expect(
      await errorCode(
        abe.limits.request.mutate({
          orgId: org.id,
          quota: 500,
          windowSeconds: 60,
          justification: 'short',
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      await errorCode(
        person('Olga').browser.trpc.limits.request.mutate({
          orgId: org.id,
          quota: 500,
          windowSeconds: 60,
          justification: 'Not a member of this organization',
        }),
      ),
    ).toBe('NOT_FOUND');
  });
});
