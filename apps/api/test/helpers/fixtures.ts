import type { Permission, Role } from '@crowdee/core';
import { type TestMailbox, tokenOf } from '../../src/mail/test-mailbox.ts';
import { type Browser, signUp } from './http-client.ts';

export interface Person {
  browser: Browser;
  id: string;
  email: string;
  /** Where this person's mail arrives (the test app's SMTP server). */
  mailbox: TestMailbox;
}

/** What a fixture needs of a running test app: its address and the SMTP server it mails through. */
export interface MailingApp {
  url: string;
  mailbox: TestMailbox;
}

/** Follows the verification link that sign-up (or a change of address) mailed to `person`. */
export async function verifyEmail(person: Pick<Person, 'browser' | 'mailbox'>, email: string): Promise<void> {
  const mail = await person.mailbox.take(email, 'verify-email');
  await person.browser.trpc.auth.verifyEmail.mutate({ token: tokenOf(mail.link) });
}

/** Signs up through the API and, unless `verified: false`, verifies the address from the mail that arrived. */
export async function signUpPerson(
  app: MailingApp,
  name: string,
  options: { verified?: boolean } = {},
): Promise<Person> {
  const person = { ...(await signUp(app.url, name)), mailbox: app.mailbox };
  if (options.verified !== false) await verifyEmail(person, person.email);
  return person;
}

/** Accepts the invitation mailed to `person`, through the link's invitation id and token, as the app does. */
export async function acceptMailedInvitation(
  person: Person,
  id?: string,
): Promise<{ orgId: string; role: Role }> {
  const mail = await person.mailbox.take(
    person.email,
    'invitations',
    (link) => id === undefined || link.searchParams.get('invitation') === id,
  );
  const invitationId = mail.link.searchParams.get('invitation') ?? '';
  return person.browser.trpc.invitations.accept.mutate({ invitationId, token: tokenOf(mail.link) });
}

/**
 * A founder's organization with `members` at the given roles, made the only way there is: the founder invites,
 * each person reads the mail and accepts.
 */
export async function orgWith(
  founder: Person,
  name: string,
  members: { person: Person; role: Role }[] = [],
): Promise<{ id: string }> {
  const org = await founder.browser.trpc.orgs.create.mutate({ name });
  for (const { person, role } of members) await invite(founder, org.id, person, role);
  return { id: org.id };
}

/** `inviter` invites `person` into `orgId` at `role`; `person` accepts from the mail. */
export async function invite(inviter: Person, orgId: string, person: Person, role: Role): Promise<void> {
  const invitation = await inviter.browser.trpc.members.invite.mutate({ orgId, email: person.email, role });
  await acceptMailedInvitation(person, invitation.id);
}

export async function people(app: MailingApp, names: string[]): Promise<Record<string, Person>> {
  const out: Record<string, Person> = {};
  for (const name of names) out[name] = await signUpPerson(app, name);
  return out;
}

/** Creates a key as `person` with `orgId` active (the key's role is checked against the role there). */
export async function keyFor(
  person: Person,
  orgId: string,
  input: {
    name?: string;
    role: 'viewer' | 'member' | 'admin';
    orgIds?: string[];
    expiresInDays?: number;
    expiresAt?: string;
    permissions?: Permission[];
    allowedIps?: string[];
  },
): Promise<{ key: string; id: string }> {
  await person.browser.trpc.orgs.setActive.mutate({ orgId });
  const created = await person.browser.trpc.keys.create.mutate({ name: input.name ?? 'test key', ...input });
  return { key: created.key, id: created.apiKey.id };
}
