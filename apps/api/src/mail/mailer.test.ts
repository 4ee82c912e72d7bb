import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateOneTimeToken } from '@crowdee/core';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { LogCapture } from '../../test/helpers/test-app.ts';
import { createLogger } from '../logger.ts';
import { Mailer } from './mailer.ts';
import { tokenLink, verificationMail } from './messages.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the embedded default mailer (no SMTP_URL)', () => {
  it('writes the mail as an .eml file under the data folder and logs its one link, intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdee-mail-'));
    dirs.push(dir);
    const logs = new LogCapture();
    const mailer = new Mailer({
      smtpUrl: undefined,
      from: 'Crowdee <no-reply@crowdee.localhost>',
      mailDir: join(dir, 'mail'),
      logger: createLogger({ logLevel: 'info' }, logs),
    });
    const { token } = generateOneTimeToken('email-verification');
    const link = tokenLink('http://localhost:3000', 'verify-email', token);
    mailer.enqueue(verificationMail('ada@example.com', 'Ada', link, false));
    await mailer.drain();
    const files = readdirSync(join(dir, 'mail'));
    expect(files).toHaveLength(1);
    const parsed = await simpleParser(readFileSync(join(dir, 'mail', files[0] ?? '')));
    expect(parsed.subject).toBe('Verify your email address for Crowdee');
    expect(parsed.text).toContain(link);
    // The log line carries the link exactly (redaction must not mangle it), and the file's path.
    expect(logs.text).toContain(link);
    expect(logs.text).toContain(join(dir, 'mail', files[0] ?? ''));
    expect(link).toBe(`http://localhost:3000/verify-email#token=${token}`);
  });
});
