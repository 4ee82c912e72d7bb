import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from '../logger.ts';

/** One outgoing email. `link` is the one link it carries (logged by the embedded default, never elsewhere). */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  link: string;
}

export interface MailerOptions {
  /** `smtp://` or `smtps://` URL of a real SMTP server; absent = write `.eml` files under `mailDir`. */
  smtpUrl: string | undefined;
  from: string;
  mailDir: string;
  logger: Logger;
}

/**
 * Outgoing mail through nodemailer. Sending happens after the request has answered: a slow or failing SMTP server
 * never delays an answer, and the time of an answer never tells whether a mail went out (an account exists).
 * A failed send is logged (without the link) and the user can ask again.
 */
export class Mailer {
  private readonly transport: Transporter;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: MailerOptions) {
    this.transport = options.smtpUrl
      ? createTransport(options.smtpUrl)
      : createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  /** Queues the mail and returns at once. */
  enqueue(mail: OutgoingMail): void {
    const job = this.deliver(mail).catch((error: unknown) => {
      this.options.logger.error(
        { err: error instanceof Error ? new Error(error.message) : new Error(String(error)), to: mail.to },
        'could not send mail',
      );
    });
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Waits for every queued mail (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  close(): void {
    this.transport.close();
  }

  private async deliver(mail: OutgoingMail): Promise<void> {
    const info: { message?: unknown } = await this.transport.sendMail({
      from: this.options.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
    if (this.options.smtpUrl) return;
    // The embedded default: no mail server, so the message lands in a file and its one link in the log, which is
    // how someone running the two README commands on their own machine verifies their address.
    if (!Buffer.isBuffer(info.message)) throw new Error('nodemailer returned no message buffer');
    await mkdir(this.options.mailDir, { recursive: true, mode: 0o700 });
    const file = join(this.options.mailDir, `${Date.now()}-${randomUUID()}.eml`);
    await writeFile(file, info.message, { mode: 0o600 });
    this.options.logger.info(
      `Mail "${mail.subject}" to ${mail.to} written to ${file} (no SMTP_URL). Its link: ${mail.link}`,
    );
  }
}
