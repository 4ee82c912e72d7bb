import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One mail as the SMTP server received it. */
export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  /** The one link the mail carries. */
  link: URL;
}

const LINK_RE = /(https?:\/\/[^\s<>"]+#token=[0-9A-Za-z_]+)/;
/** Mails without a token (notices such as the stale-key mail) carry a plain link to the app. */
const PLAIN_LINK_RE = /(https?:\/\/[^\s<>"]+)/;

/**
 * A real SMTP server on a loopback port, for tests: the API sends through nodemailer to it exactly as to a
 * production server (no mock of the sender), and tests read the links out of what arrived. Each mail is handed out
 * once, to the first `take` that matches it; `take` waits on arrival events, never on a timer.
 */
export class TestMailbox {
  private readonly received: { mail: ReceivedMail; taken: boolean }[] = [];
  private readonly waiters = new Set<() => void>();
  private constructor(
    private readonly server: SMTPServer,
    readonly smtpUrl: string,
  ) {}

  static async start(): Promise<TestMailbox> {
    let box: TestMailbox | undefined;
    const server = new SMTPServer({
      authOptional: true,
      // Plain SMTP on loopback: nothing to encrypt, and no certificate for nodemailer to distrust.
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          (parsed) => {
            const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
            const text = parsed.text ?? '';
            const link = LINK_RE.exec(text)?.[1] ?? PLAIN_LINK_RE.exec(text)?.[1];
            if (link && box)
              box.deliver({
                to: to?.value[0]?.address ?? '',
                subject: parsed.subject ?? '',
                text,
                link: new URL(link),
              });
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.server.address() as AddressInfo;
    box = new TestMailbox(server, `smtp://127.0.0.1:${port}`);
    return box;
  }

  private deliver(mail: ReceivedMail): void {
    this.received.push({ mail, taken: false });
    for (const wake of [...this.waiters]) wake();
  }

  /** Every mail received so far (taken or not), oldest first. */
  get all(): ReceivedMail[] {
    return this.received.map((r) => r.mail);
  }

  /**
   * The oldest mail to `to` whose link path is `path` (`verify-email`, `invitations`, `reset-password`) not yet
   * taken (and that `where` accepts), waiting for it to arrive if need be.
   */
  take(to: string, path: string, where: (link: URL) => boolean = () => true): Promise<ReceivedMail> {
    const find = () => {
      const hit = this.received.find(
        (r) =>
          !r.taken &&
          r.mail.to.toLowerCase() === to.toLowerCase() &&
          r.mail.link.pathname === `/${path}` &&
          where(r.mail.link),
      );
      if (hit) hit.taken = true;
      return hit?.mail;
    };
    const now = find();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const wake = () => {
        const mail = find();
        if (!mail) return;
        this.waiters.delete(wake);
        resolve(mail);
      };
      this.waiters.add(wake);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The token a mailed link carries in its fragment. */
export function tokenOf(link: URL): string {
  return new URLSearchParams(link.hash.slice(1)).get('token') ?? '';
}
