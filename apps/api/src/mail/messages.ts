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

/** To a key's owner after an organization's stale-key policy took keys away (revoked, or cut off there only). */
export function staleKeysMail(
  to: string,
  name: string,
  organization: string,
  days: number,
  keys: readonly { name: string; hint: string; action: 'revoked' | 'cut-off' }[],
  link: string,
): OutgoingMail {
  const lines = keys.map((k) =>
    k.action === 'revoked'
      ? `• “${k.name}” (${k.hint}): revoked — it could act only in ${organization}.`
      : `• “${k.name}” (${k.hint}): cut off from ${organization}; it still works in your other organizations.`,
  );
  return mail(
    to,
    keys.length === 1
      ? `Your API key “${keys[0]?.name ?? ''}” was unused for ${days} days in ${organization}`
      : `${keys.length} of your API keys were unused for ${days} days in ${organization}`,
    [
      `Hello ${name},`,
      `${organization} revokes API keys that have not been used there for ${days} days. These keys of yours had not been:`,
      ...lines,
      'If a script still needs access, create a new key in Settings → API Keys and use it within the period.',
    ],
    link,
    'Open your API keys',
  );
}

export function limitDecisionMail(
  to: string,
  name: string,
  organization: string,
  decision: { approved: boolean; quota: number; windowSeconds: number; note: string | null; link: string },
): OutgoingMail {
  const rate = `${decision.quota} requests per ${decision.windowSeconds} s`;
  return mail(
    to,
    decision.approved
      ? `Your higher limit for ${organization} is approved`
      : `Your limit request for ${organization} was declined`,
    [
      `Hello ${name},`,
      decision.approved
        ? `An operator approved the higher limit you asked for "${organization}": ${rate}. It is in force now.`
        : `An operator declined the higher limit you asked for "${organization}" (${rate}).`,
      ...(decision.note ? [`Their note: ${decision.note}`] : []),
    ],
    decision.link,
    'See your limits',
  );
}
