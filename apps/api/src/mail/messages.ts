import type { Role } from '@crowdee/core';
import type { OutgoingMail } from './mailer.ts';

/**
 * The mails we send. Links carry their token in the URL fragment (`#token=`): browsers never send a fragment to a
 * server, so the token stays out of access logs, proxies and Referer headers; the settings app reads it and posts it.
 */
export function tokenLink(
  appUrl: string,
  path: string,
  token: string,
  query: Record<string, string> = {},
): string {
  const url = new URL(path, appUrl.endsWith('/') ? appUrl : `${appUrl}/`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  url.hash = `token=${token}`;
  return url.toString();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function mail(to: string, subject: string, lines: string[], link: string, action: string): OutgoingMail {
  const text = `${lines.join('\n\n')}\n\n${action}: ${link}\n`;
  const html = `${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`;
  return { to, subject, text, html, link };
}

export function verificationMail(to: string, name: string, link: string, change: boolean): OutgoingMail {
  return mail(
    to,
    'Verify your email address for Crowdee',
    [
      `Hello ${name},`,
      change
        ? 'You asked to use this address for your Crowdee account. It takes effect once you confirm it.'
        : 'Confirm that this address is yours to finish setting up your Crowdee account.',
      'The link works once, for 24 hours. If you did not ask for this, ignore this mail.',
    ],
    link,
    'Verify email address',
  );
}

export function invitationMail(
  to: string,
  inviter: string,
  organization: string,
  role: Role,
  link: string,
): OutgoingMail {
  return mail(
    to,
    `${inviter} invited you to ${organization} on Crowdee`,
    [
      `${inviter} invited you to join the organization "${organization}" on Crowdee as ${role}.`,
      'Sign in (or create an account) with this address and verify it, then accept or decline. Nothing happens until you accept. The invitation expires in 7 days.',
    ],
    link,
    'View invitation',
  );
}

export function passwordResetMail(to: string, link: string): OutgoingMail {
  return mail(
    to,
    'Reset your Crowdee password',
    [
      'Someone (hopefully you) asked to reset the password of the Crowdee account with this address.',
      'The link works once, for 1 hour. Resetting signs out every session of the account; API keys keep working. If you did not ask for this, ignore this mail: your password stays as it is.',
    ],
    link,
    'Choose a new password',
  );
}
