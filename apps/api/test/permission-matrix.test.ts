/**
 * The authorization matrix, generated from the router: every procedure of `appRouter` and every operation of the
 * OpenAPI document × every kind of caller (anonymous, a non-member, each role by session, keys of each role, a key
 * capped by its demoted creator, keys scoped in and out) × the caller's own organization and another tenant's.
 *
 * What each cell must answer is derived from the procedure's declared `access` meta and a statement, written here
 * and independently of packages/core, of the minimum role each permission needs and which permissions a key may
 * never use. A mistake in the catalogue or in a procedure's declaration fails this test instead of being mirrored by
 * it; a procedure or REST operation added without a row here fails the enumeration tests.
 */
import { randomUUID } from 'node:crypto';
import { generateKey, PERMISSION_NAMES, type Permission } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Meta } from '../src/procedure-meta.ts';
import { buildOpenApiDocument } from '../src/rest/openapi.ts';
import { appRouter } from '../src/routers/index.ts';
import { invite, orgWith, type Person, people, signUpPerson } from './helpers/fixtures.ts';
import { PASSWORD, uniqueEmail } from './helpers/http-client.ts';
import { SoftwareAuthenticator } from './helpers/software-authenticator.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

/* ---------------------------------------------------------------- the independent statement of who may do what */

type Role = 'viewer' | 'member' | 'admin' | 'owner';
const RANK: Role[] = ['viewer', 'member', 'admin', 'owner'];
const atLeast = (role: Role, minimum: Role) => RANK.indexOf(role) >= RANK.indexOf(minimum);
const lower = (a: Role, b: Role): Role => (RANK.indexOf(a) <= RANK.indexOf(b) ? a : b);

/** The least role that may do each thing (our product rules, as the docs state them). */
const MINIMUM_ROLE: Record<Permission, Role> = {
  'org:read': 'viewer',
  'org:update': 'admin',
  'org:delete': 'owner',
  'org:two-factor-policy': 'owner',
  'members:read': 'viewer',
  'members:manage': 'admin',
  'members:invite': 'admin',
  'members:leave': 'viewer',
  'keys:manage-org': 'admin',
  'audit:read': 'admin',
  'projects:read': 'viewer',
  'projects:write': 'member',
  'projects:delete': 'admin',
  'datasets:read': 'viewer',
  'datasets:write': 'member',
  'datasets:delete': 'admin',
  'runs:read': 'viewer',
  'runs:write': 'member',
};
/**
 * What a bearer credential (a key or a session token) may never do, whatever its role: only a signed-in browser
 * session may manage keys, delete an organization, invite, or take its own user out of an organization.
 */
const SESSION_ONLY = new Set<Permission>([
  'org:delete',
  'org:two-factor-policy',
  'keys:manage-org',
  'members:invite',
  'members:leave',
]);
/**
 * Sudo mode (issue #22): the sensitive actions, which need a signed-in session whose last proof of identity is less
 * than 10 minutes old — so never a bearer credential, even where the permission would let keys through.
 */
const SUDO = new Set<string>([
  'keys.create',
  'keys.rotate',
  'keys.updateAllowedIps',
  'members.invite',
  'members.updateRole',
  'orgs.setKeyPolicy',
  'orgs.setTwoFactorPolicy',
  'orgs.delete',
]);
/** Procedures the session past its window is tried on besides the sudo ones: actions that must stay open to it. */
const STALE_SESSION_SAMPLE = new Set<string>(['keys.update', 'keys.revoke', 'orgs.update', 'members.remove']);

/* ------------------------------------------------------------------------------------------------------ callers */

type Caller =
  | { name: string; kind: 'anonymous' }
  | {
      name: string;
      kind: 'session';
      role: Role | null;
      /** Signed in more than 10 minutes ago and not confirmed since: sudo actions need a confirmation first. */
      stale?: true;
    }
  /** A session token: a bearer credential bound to the user's sign-in, acting with the user's current role. */
  | { name: string; kind: 'token'; role: Role }
  | {
      name: string;
      kind: 'key';
      keyRole: Exclude<Role, 'owner'>;
      creatorRole: Role;
      /** The creator's role lowered after the key was made: the key must shrink with it. */
      demotedTo?: Role;
      scope: 'any' | 'in' | 'out';
      /** Restricted at creation to these permissions: anything else is FORBIDDEN, whatever the role allows. */
      only?: Permission[];
    };

const CALLERS: Caller[] = [
  { name: 'anonymous', kind: 'anonymous' },
  { name: 'non-member by session', kind: 'session', role: null },
  ...RANK.map((role) => ({ name: `${role} by session`, kind: 'session' as const, role })),
  ...RANK.map((role) => ({ name: `${role} by session token`, kind: 'token' as const, role })),
  { name: 'owner by session, past the sudo window', kind: 'session', role: 'owner', stale: true },
  ...(['viewer', 'member', 'admin'] as const).map((keyRole) => ({
    name: `${keyRole} key of an owner`,
    kind: 'key' as const,
    keyRole,
    creatorRole: 'owner' as const,
    scope: 'any' as const,
  })),
  {
    name: 'admin key of a creator demoted to viewer',
    kind: 'key',
    keyRole: 'admin',
    creatorRole: 'admin',
    demotedTo: 'viewer',
    scope: 'any',
  },
  {
    name: 'admin key of an owner restricted to projects:read',
    kind: 'key',
    keyRole: 'admin',
    creatorRole: 'owner',
    scope: 'any',
    only: ['projects:read'],
  },
  {
    name: 'admin key scoped to this organization',
    kind: 'key',
    keyRole: 'admin',
    creatorRole: 'owner',
    scope: 'in',
  },
  {
    name: 'admin key scoped to another organization',
    kind: 'key',
    keyRole: 'admin',
    creatorRole: 'owner',
    scope: 'out',
  },
];

/* ----------------------------------------------------------------------------------- what each procedure takes */

type Target = 'own' | 'other';

/** The world of one cell: a fresh organization where the caller holds its role, and another tenant's. */
interface World {
  orgId: string;
  projectId: string;
  targetUserId: string;
  newcomerEmail: string;
  founderEmail: string;
  /** A pending invitation of the organization. */
  invitationId: string;
  /** Objects that belong to the caller (own) or to another tenant (other). */
  keyId: string;
  sessionId: string;
  /** One of the caller's passkeys (own), or another tenant's (other). */
  passkeyId: string;
  /** A dataset of the organization's project, with one item (rows that name them build them), and a queued run. */
  datasetId: string;
  itemId: string;
  runId: string;
}

/**
 * How to call each procedure with valid input, and what object the input names:
 * `org` (an organization the caller may or may not belong to), `caller` (the caller's own key or session, or with
 * target `other` another tenant's), or nothing.
 */
interface Row {
  input: (w: World) => unknown;
  /**
   * What a caller the access check lets through gets, when that is not success: the input names an invitation or a
   * one-time token that no caller of the matrix holds, so every admitted caller gets this same answer.
   */
  admitted?: string;
  object?: 'org' | 'caller';
  /** Creating a key needs an active organization where the caller may grant the role. */
  creates?: 'key';
  /**
   * The input names a dataset and an item of the organization's project (`run`: and a queued run over it);
   * `passkey`: the caller has two passkeys (removing one is then no loss of the last factor).
   */
  needs?: 'dataset' | 'run' | 'passkey';
}

const org = (w: World) => ({ orgId: w.orgId });
/** A well-formed WebAuthn answer to a ceremony nobody opened: every admitted caller hears PASSKEY_INVALID. */
const unopenedCeremony = {
  ceremonyId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  response: {
    id: 'AAAA',
    rawId: 'AAAA',
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: 'AAAA',
      authenticatorData: 'AAAA',
      signature: 'AAAA',
      attestationObject: 'AAAA',
    },
  },
};
const dataset = (w: World) => ({ orgId: w.orgId, projectId: w.projectId, datasetId: w.datasetId });
const ROWS: Record<string, Row> = {
  'meta.status': { input: () => undefined },
  'auth.signUp': { input: () => ({ email: uniqueEmail('matrix'), password: PASSWORD, name: 'New' }) },
  'auth.signIn': { input: (w) => ({ email: w.founderEmail, password: PASSWORD }) },
  'auth.completeSignIn': {
    input: () => ({ challengeToken: `${'A'.repeat(20)}.${'A'.repeat(43)}`, totpCode: '000000' }),
    admitted: 'SIGN_IN_CHALLENGE_INVALID',
  },
  'auth.totp.status': { input: () => undefined },
  'auth.totp.beginEnrolment': { input: () => undefined },
  // No set-up in progress and no app on: every caller the access check admits hears NOT_FOUND.
  'auth.totp.confirmEnrolment': { input: () => ({ code: '000000' }), admitted: 'NOT_FOUND' },
  'auth.totp.regenerateRecoveryCodes': { input: () => undefined, admitted: 'NOT_FOUND' },
  'auth.totp.disable': { input: () => undefined, admitted: 'NOT_FOUND' },
  'auth.signOut': { input: () => undefined },
  'auth.me': { input: () => undefined },
  'auth.session': { input: () => undefined },
  'auth.createSessionToken': { input: () => ({ audience: 'matrix' }) },
  'auth.passkeys.registrationOptions': { input: () => undefined },
  'auth.passkeys.register': {
    input: () => ({ ...unopenedCeremony, name: 'matrix' }),
    admitted: 'PASSKEY_INVALID',
  },
  'auth.passkeys.list': { input: () => undefined },
  'auth.passkeys.rename': {
    input: (w) => ({ id: w.passkeyId, name: 'Renamed' }),
    object: 'caller',
    needs: 'passkey',
  },
  // Removing a passkey needs a second factor proven in the last 10 minutes; the matrix's sessions are password-proven.
  'auth.passkeys.remove': {
    input: (w) => ({ id: w.passkeyId }),
    object: 'caller',
    needs: 'passkey',
    admitted: 'REAUTHENTICATION_REQUIRED',
  },
  'auth.passkeys.signInOptions': { input: () => undefined },
  'auth.passkeys.signIn': { input: () => unopenedCeremony, admitted: 'PASSKEY_INVALID' },
  'auth.passkeys.sudoOptions': { input: () => undefined, needs: 'passkey' },
  'auth.confirmSudo': { input: () => ({ password: PASSWORD }) },
  'auth.refreshSessionToken': { input: () => undefined },
  'sessions.list': { input: () => undefined },
  'sessions.revoke': { input: (w) => ({ id: w.sessionId }), object: 'caller' },
  'sessions.revokeOthers': { input: () => undefined },
  'orgs.create': { input: () => ({ name: 'Made by the matrix' }) },
  'orgs.list': { input: () => undefined },
  'orgs.get': { input: org, object: 'org' },
  'orgs.update': { input: (w) => ({ ...org(w), name: 'Renamed' }), object: 'org' },
  'orgs.delete': { input: org, object: 'org' },
  'orgs.setActive': { input: org, object: 'org' },
  'orgs.setKeyPolicy': {
    input: (w) => ({ ...org(w), requireExpiry: true, maxLifetimeDays: 90 }),
    object: 'org',
  },
  // Off, so an admitted owner (who has no second factor here) succeeds; switching it on is tested in two-factor-policy.
  'orgs.setTwoFactorPolicy': { input: (w) => ({ ...org(w), required: false }), object: 'org' },
  'members.list': { input: org, object: 'org' },
  'members.invite': {
    input: (w) => ({ ...org(w), email: uniqueEmail('invited'), role: 'viewer' }),
    object: 'org',
  },
  'members.invitations': { input: org, object: 'org' },
  'members.cancelInvitation': { input: (w) => ({ ...org(w), invitationId: w.invitationId }), object: 'org' },
  'invitations.list': { input: () => undefined },
  'invitations.accept': { input: () => ({ invitationId: randomUUID() }), admitted: 'NOT_FOUND' },
  'invitations.decline': { input: () => ({ invitationId: randomUUID() }), admitted: 'NOT_FOUND' },
  'auth.verifyEmail': { input: () => ({ token: generateKey().key }), admitted: 'LINK_INVALID' },
  'auth.resendVerification': { input: () => undefined },
  'auth.changeEmail': { input: () => ({ email: uniqueEmail('changed'), currentPassword: PASSWORD }) },
  'auth.changePassword': {
    input: () => ({ currentPassword: PASSWORD, newPassword: 'another long passphrase 42' }),
  },
  'auth.requestPasswordReset': { input: (w) => ({ email: w.founderEmail }) },
  'auth.resetPassword': {
    input: () => ({ token: generateKey().key, newPassword: 'another long passphrase 42' }),
    admitted: 'LINK_INVALID',
  },
  'members.updateRole': {
    input: (w) => ({ ...org(w), userId: w.targetUserId, role: 'member' }),
    object: 'org',
  },
  'members.remove': { input: (w) => ({ ...org(w), userId: w.targetUserId }), object: 'org' },
  'members.leave': { input: org, object: 'org' },
  'projects.list': { input: org, object: 'org' },
  'projects.create': { input: (w) => ({ ...org(w), name: `P-${randomUUID()}` }), object: 'org' },
  'projects.get': { input: (w) => ({ ...org(w), projectId: w.projectId }), object: 'org' },
  'projects.update': {
    input: (w) => ({ ...org(w), projectId: w.projectId, name: 'Renamed' }),
    object: 'org',
  },
  'projects.delete': { input: (w) => ({ ...org(w), projectId: w.projectId }), object: 'org' },
  'audit.list': { input: org, object: 'org' },
  'audit.export': { input: (w) => ({ ...org(w), format: 'csv' }), object: 'org' },
  'datasets.create': {
    input: (w) => ({ ...org(w), projectId: w.projectId, name: `D-${randomUUID()}` }),
    object: 'org',
  },
  'datasets.list': { input: (w) => ({ ...org(w), projectId: w.projectId }), object: 'org' },
  'datasets.get': { input: (w) => ({ ...dataset(w) }), object: 'org', needs: 'dataset' },
  'datasets.find': { input: (w) => ({ ...org(w), datasetId: w.datasetId }), object: 'org', needs: 'dataset' },
  'datasets.delete': { input: (w) => ({ ...dataset(w) }), object: 'org', needs: 'dataset' },
  'items.add': {
    input: (w) => ({ ...dataset(w), items: [{ externalId: 'matrix', text: 'text' }] }),
    object: 'org',
    needs: 'dataset',
  },
  'items.upload': {
    input: (w) => ({
      ...dataset(w),
      files: [{ name: 'matrix.txt', mediaType: 'text/plain', contentBase64: btoa('file') }],
    }),
    object: 'org',
    needs: 'dataset',
  },
  'items.list': { input: (w) => ({ ...dataset(w) }), object: 'org', needs: 'dataset' },
  'items.get': { input: (w) => ({ ...dataset(w), itemId: w.itemId }), object: 'org', needs: 'dataset' },
  'items.delete': { input: (w) => ({ ...dataset(w), itemId: w.itemId }), object: 'org', needs: 'dataset' },
  'keys.create': { input: () => ({ name: 'made by the matrix', role: 'viewer' }), creates: 'key' },
  'keys.list': { input: () => undefined },
  'keys.listForOrg': { input: org, object: 'org' },
  'keys.revoke': { input: (w) => ({ id: w.keyId }), object: 'caller' },
  'keys.update': { input: (w) => ({ id: w.keyId, name: 'Renamed' }), object: 'caller' },
  'keys.rotate': { input: (w) => ({ id: w.keyId, gracePeriod: 'now' }), object: 'caller' },
  'keys.updateAllowedIps': {
    input: (w) => ({ id: w.keyId, allowedIps: ['127.0.0.0/8', '::1'] }),
    object: 'caller',
  },
  'keys.current': { input: () => undefined },
  'keys.revokeCurrent': { input: () => undefined },
  'keys.revokeLeaked': { input: () => ({ keys: [generateKey().key] }) },
  'keys.currentUsage': { input: () => ({}) },
  'usage.key': { input: (w) => ({ id: w.keyId }), object: 'caller' },
  'usage.sparklines': { input: () => undefined },
  'usage.org': { input: org, object: 'org' },
  'limits.get': { input: org, object: 'org' },
  'limits.request': {
    input: (w) => ({ ...org(w), quota: 5000, windowSeconds: 60, justification: 'Asked for by the matrix' }),
    object: 'org',
  },
  'runs.start': { input: (w) => ({ ...dataset(w), pipeline: 'default' }), object: 'org', needs: 'run' },
  'runs.list': { input: dataset, object: 'org', needs: 'run' },
  'runs.get': { input: (w) => ({ ...dataset(w), runId: w.runId }), object: 'org', needs: 'run' },
  'runs.cancel': { input: (w) => ({ ...dataset(w), runId: w.runId }), object: 'org', needs: 'run' },
  'runs.results': { input: (w) => ({ ...dataset(w), runId: w.runId }), object: 'org', needs: 'run' },
  'runs.exportResults': { input: (w) => ({ ...dataset(w), runId: w.runId }), object: 'org', needs: 'run' },
  'runs.listForOrg': { input: org, object: 'org' },
};

/* ------------------------------------------------------------------------------------------ expected outcomes */

interface ProcedureDef {
  _def: { meta?: Meta; type: 'query' | 'mutation' };
}
const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;

/** The outcome a cell must have, from the declared access and the statement above alone. */
function expected(
  path: string,
  access: string,
  row: Row,
  caller: Caller,
  target: Target,
  transport: 'trpc' | 'rest',
): string {
  const stale = transport === 'trpc' && caller.kind === 'session' && caller.stale === true;
  // A session procedure looks its object up in the service, after the sudo check: a session past its window hears
  // of the window first, for its own object, another tenant's or a missing one alike (so it learns nothing).
  if (SUDO.has(path) && access === 'session' && stale) return 'REAUTHENTICATION_REQUIRED';
  let outcome = accessOutcome(access, row, caller, target, transport);
  // An organization's sudo procedures check sudo after the permission: only a caller who could act hears of it.
  if (outcome === 'OK' && SUDO.has(path)) {
    if (caller.kind === 'key' || caller.kind === 'token') outcome = 'SESSION_REQUIRED';
    else if (stale) outcome = 'REAUTHENTICATION_REQUIRED';
  }
  return outcome === 'OK' ? (row.admitted ?? 'OK') : outcome;
}

function accessOutcome(
  access: string,
  row: Row,
  caller: Caller,
  target: Target,
  transport: 'trpc' | 'rest',
): string {
  // REST takes keys only: a session cookie there is no credential at all.
  const effective: Caller =
    transport === 'rest' && caller.kind === 'session' ? { name: 'cookie', kind: 'anonymous' } : caller;
  if (access === 'public') return 'OK';
  if (effective.kind === 'anonymous') return 'UNAUTHENTICATED';
  if (access === 'authenticated') return 'OK';
  if (access === 'key') return effective.kind === 'key' ? 'OK' : 'UNAUTHENTICATED';
  if (access === 'session-token') return effective.kind === 'token' ? 'OK' : 'UNAUTHENTICATED';
  if (access === 'session') {
    if (effective.kind !== 'session') return 'SESSION_REQUIRED';
    if (row.object === 'org') return effective.role !== null && target === 'own' ? 'OK' : 'NOT_FOUND';
    if (row.object === 'caller') return target === 'own' ? 'OK' : 'NOT_FOUND';
    return 'OK';
  }
  const permission = access.replace(/^org:/, '') as Permission;
  const minimum = MINIMUM_ROLE[permission];
  if (effective.kind === 'session') {
    if (effective.role === null || target === 'other') return 'NOT_FOUND';
    return atLeast(effective.role, minimum) ? 'OK' : 'FORBIDDEN';
  }
  if (effective.kind === 'token') {
    // The user's own role, uncapped and unscoped; never what only a browser session may do.
    if (target === 'other') return 'NOT_FOUND';
    if (SESSION_ONLY.has(permission)) return 'SESSION_REQUIRED';
    return atLeast(effective.role, minimum) ? 'OK' : 'FORBIDDEN';
  }
  // A key: its scope first (the answer is the same whether the organization exists), then its creator's
  // membership, then whether keys may do this at all, then the capped role.
  if (effective.scope === 'out' || (effective.scope === 'in' && target === 'other'))
    return 'ORG_OUT_OF_SCOPE';
  if (target === 'other') return 'NOT_FOUND';
  if (SESSION_ONLY.has(permission)) return 'SESSION_REQUIRED';
  const role = lower(effective.keyRole, effective.demotedTo ?? effective.creatorRole);
  if (effective.only && !effective.only.includes(permission)) return 'FORBIDDEN';
  return atLeast(role, minimum) ? 'OK' : 'FORBIDDEN';
}

/* -------------------------------------------------------------------------------------------------- the cells */

let app: TestApp;
let founder: Person;
let target: Person;
let newcomer: Person;
let other: Person;
let otherWorld: {
  orgId: string;
  projectId: string;
  keyId: string;
  sessionId: string;
  passkeyId: string;
  invitationId: string;
  datasetId: string;
  itemId: string;
  runId: string;
};

/** Registers a passkey for `person` with a software authenticator (real WebAuthn answers) and returns its id. */
async function passkeyOf(person: Person): Promise<string> {
  const { ceremonyId, options } = await person.browser.trpc.auth.passkeys.registrationOptions.mutate();
  const { response } = new SoftwareAuthenticator(app.url.replace('127.0.0.1', 'localhost')).register(options);
  const made = await person.browser.trpc.auth.passkeys.register.mutate({
    ceremonyId,
    name: 'matrix',
    response,
  });
  return made.passkey.id;
}

/** `datasetWithItem`, and a queued run over it (no worker runs in the matrix). */
async function datasetWithRun(owner: Person, orgId: string, projectId: string) {
  const data = await datasetWithItem(owner, orgId, projectId);
  const run = await owner.browser.trpc.runs.start.mutate({ orgId, projectId, datasetId: data.datasetId });
  return { ...data, runId: run.id };
}

beforeAll(async () => {
  app = await startTestApp();
  const cast = await people(app, ['Founder', 'Target', 'Newcomer', 'Other']);
  founder = cast.Founder as Person;
  target = cast.Target as Person;
  newcomer = cast.Newcomer as Person;
  other = cast.Other as Person;
  const otherOrg = await orgWith(other, 'Other tenant', [{ person: target, role: 'viewer' }]);
  const project = await other.browser.trpc.projects.create.mutate({ orgId: otherOrg.id, name: 'theirs' });
  await other.browser.trpc.orgs.setActive.mutate({ orgId: otherOrg.id });
  const key = await other.browser.trpc.keys.create.mutate({ name: 'theirs', role: 'viewer' });
  const [session] = await other.browser.trpc.sessions.list.query();
  const invitation = await other.browser.trpc.members.invite.mutate({
    orgId: otherOrg.id,
    email: uniqueEmail('pending'),
    role: 'viewer',
  });
  const data = await datasetWithRun(other, otherOrg.id, project.id);
  otherWorld = {
    orgId: otherOrg.id,
    projectId: project.id,
    keyId: key.apiKey.id,
    sessionId: session?.id ?? '',
    passkeyId: await passkeyOf(other),
    invitationId: invitation.id,
    ...data,
  };
});
afterAll(async () => {
  await app?.close();
});

interface Credentials {
  cookie?: string;
  key?: string;
}

async function datasetWithItem(
  owner: Person,
  orgId: string,
  projectId: string,
): Promise<{ datasetId: string; itemId: string }> {
  const made = await owner.browser.trpc.datasets.create.mutate({
    orgId,
    projectId,
    name: `d-${randomUUID()}`,
  });
  const added = await owner.browser.trpc.items.add.mutate({
    orgId,
    projectId,
    datasetId: made.id,
    items: [{ externalId: 'existing', text: 'existing' }],
  });
  return { datasetId: made.id, itemId: added.results[0]?.itemId ?? '' };
}

/** A fresh organization with the caller in it as the cell says, and the caller's credentials and objects. */
async function buildCell(
  caller: Caller,
  where: Target,
  row: Row,
): Promise<{ world: World; credentials: Credentials }> {
  const own = await orgWith(founder, 'Own', [{ person: target, role: 'viewer' }]);
  const project = await founder.browser.trpc.projects.create.mutate({ orgId: own.id, name: 'own' });
  const pending = await founder.browser.trpc.members.invite.mutate({
    orgId: own.id,
    email: uniqueEmail('pending'),
    role: 'viewer',
  });
  const base = { targetUserId: target.id, newcomerEmail: newcomer.email, founderEmail: founder.email };
  const ownObjects = (keyId: string, sessionId: string, passkeyId: string = randomUUID()) =>
    where === 'own'
      ? { keyId, sessionId, passkeyId }
      : { keyId: otherWorld.keyId, sessionId: otherWorld.sessionId, passkeyId: otherWorld.passkeyId };
  const ownData =
    where === 'own' && row.needs === 'run'
      ? await datasetWithRun(founder, own.id, project.id)
      : where === 'own' && row.needs === 'dataset'
        ? { ...(await datasetWithItem(founder, own.id, project.id)), runId: randomUUID() }
        : { datasetId: randomUUID(), itemId: randomUUID(), runId: randomUUID() };
  const orgIds =
    where === 'own'
      ? { orgId: own.id, projectId: project.id, invitationId: pending.id, ...ownData }
      : {
          orgId: otherWorld.orgId,
          projectId: otherWorld.projectId,
          invitationId: otherWorld.invitationId,
          datasetId: otherWorld.datasetId,
          itemId: otherWorld.itemId,
          runId: otherWorld.runId,
        };
  if (caller.kind === 'anonymous') {
    return {
      world: { ...base, ...orgIds, ...ownObjects(otherWorld.keyId, otherWorld.sessionId) },
      credentials: {},
    };
  }
  const person = await signUpPerson(app, 'Caller');
  const role = caller.kind === 'key' ? caller.creatorRole : caller.role;
  if (role !== null) await invite(founder, own.id, person, role);
  // Only what the row needs is built: the caller's own session id, and its own key in a home organization.
  const session = row.object === 'caller' ? (await person.browser.trpc.sessions.list.query())[0] : undefined;
  const needsHome =
    caller.kind === 'session'
      ? row.object === 'caller' || row.creates === 'key'
      : caller.kind === 'key' && caller.scope === 'out';
  const home = needsHome ? await person.browser.trpc.orgs.create.mutate({ name: 'Home' }) : undefined;
  if (caller.kind === 'token') {
    const { token } = await person.browser.trpc.auth.createSessionToken.mutate({ audience: 'matrix' });
    return {
      world: { ...base, ...orgIds, ...ownObjects(otherWorld.keyId, otherWorld.sessionId) },
      credentials: { key: token },
    };
  }
  if (caller.kind === 'session') {
    let keyId = otherWorld.keyId;
    if (home) {
      await person.browser.trpc.orgs.setActive.mutate({ orgId: home.id });
      keyId = (await person.browser.trpc.keys.create.mutate({ name: 'own', role: 'viewer' })).apiKey.id;
    }
    // Two passkeys: removing one of them is no loss of the account's last second factor.
    const passkeyId = row.needs === 'passkey' ? await passkeyOf(person) : undefined;
    if (row.needs === 'passkey') await passkeyOf(person);
    if (caller.stale) {
      // As if the sign-in were 11 minutes old. Cells run concurrently on one clock, so the session is aged rather
      // than the clock moved (test/sudo.test.ts moves the clock).
      await app.orm.em
        .getConnection()
        .execute(`update sessions set verified_at = verified_at - interval '11 minutes' where user_id = ?`, [
          person.id,
        ]);
    }
    return {
      world: { ...base, ...orgIds, ...ownObjects(keyId, session?.id ?? '', passkeyId) },
      credentials: { cookie: person.browser.cookie ?? '' },
    };
  }
  await person.browser.trpc.orgs.setActive.mutate({ orgId: own.id });
  const scope = caller.scope === 'in' ? [own.id] : home ? [home.id] : undefined;
  const key = await person.browser.trpc.keys.create.mutate({
    name: 'caller',
    role: caller.keyRole,
    ...(scope ? { orgIds: scope } : {}),
    ...(caller.only ? { permissions: caller.only } : {}),
  });
  if (caller.demotedTo) {
    await founder.browser.trpc.members.updateRole.mutate({
      orgId: own.id,
      userId: person.id,
      role: caller.demotedTo,
    });
  }
  return {
    world: { ...base, ...orgIds, ...ownObjects(key.apiKey.id, session?.id ?? '') },
    credentials: { key: key.key },
  };
}

interface Outcome {
  code: string;
  status: number;
  body: string;
  contentType: string;
}

async function outcome(res: Response): Promise<Outcome> {
  const body = await res.text();
  let code = 'OK';
  if (res.status >= 400) {
    const parsed = JSON.parse(body) as { code?: string; error?: { data?: { code?: string } } };
    code = parsed.error?.data?.code ?? parsed.code ?? 'UNKNOWN';
  }
  return { code, status: res.status, body, contentType: res.headers.get('content-type') ?? '' };
}

function headersFor(credentials: Credentials): Record<string, string> {
  return {
    ...(credentials.cookie ? { cookie: credentials.cookie, 'sec-fetch-site': 'same-origin' } : {}),
    ...(credentials.key ? { authorization: `Bearer ${credentials.key}` } : {}),
  };
}

async function callTrpc(path: string, input: unknown, credentials: Credentials): Promise<Outcome> {
  const headers = headersFor(credentials);
  if (procedures[path]?._def.type === 'query') {
    const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return outcome(await fetch(`${app.url}/trpc/${path}${query}`, { headers }));
  }
  // As the tRPC client does: a JSON content type even when there is no input to send.
  const init: RequestInit = { method: 'POST', headers: { ...headers, 'content-type': 'application/json' } };
  if (input !== undefined) init.body = JSON.stringify(input);
  return outcome(await fetch(`${app.url}/trpc/${path}`, init));
}

/* -------------------------------------------------------------------------------------------------------- REST */

const doc = buildOpenApiDocument(appRouter);
type RestOperation = { operationId?: string; parameters?: { in: string; name: string }[] };
const restOperations = Object.entries(doc.paths ?? {}).flatMap(([template, item]) =>
  Object.entries(item as Record<string, RestOperation>)
    .filter(([method]) => ['get', 'post', 'patch', 'put', 'delete'].includes(method))
    .map(([method, operation]) => ({
      template,
      method: method.toUpperCase(),
      procedure: (operation.operationId ?? '').replace(/-/g, '.'),
      pathParams: (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
    })),
);

async function callRest(
  operation: (typeof restOperations)[number],
  input: unknown,
  credentials: Credentials,
): Promise<Outcome> {
  const fields = { ...((input ?? {}) as Record<string, unknown>) };
  let path = operation.template;
  for (const name of operation.pathParams) {
    path = path.replace(`{${name}}`, encodeURIComponent(String(fields[name])));
    delete fields[name];
  }
  const headers = headersFor(credentials);
  const init: RequestInit = { method: operation.method, headers };
  if (operation.procedure === 'items.upload') {
    // On REST an upload is multipart/form-data: the same files, as parts.
    const form = new FormData();
    for (const file of fields.files as { name: string; mediaType: string; contentBase64: string }[]) {
      form.append('file', new Blob([atob(file.contentBase64)], { type: file.mediaType }), file.name);
    }
    init.body = form;
  } else if (operation.method === 'GET' || operation.method === 'DELETE') {
    const pairs = Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)]);
    const query = new URLSearchParams(pairs).toString();
    if (query) path += `?${query}`;
  } else {
    init.headers = { ...headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(fields);
  }
  return outcome(await fetch(`${app.url}/api/v1${path}`, init));
}

/** Another tenant's object must answer exactly like one that does not exist: same status, same bytes (ids aside). */
async function expectIdenticalToMissing(
  answer: Outcome,
  world: World,
  send: (w: World) => Promise<Outcome>,
): Promise<void> {
  const missing = randomUUID();
  const replace = (w: World): World => ({
    ...w,
    orgId: w.orgId === otherWorld.orgId ? missing : w.orgId,
    keyId: w.keyId === otherWorld.keyId ? missing : w.keyId,
    sessionId: w.sessionId === otherWorld.sessionId ? missing : w.sessionId,
    passkeyId: w.passkeyId === otherWorld.passkeyId ? missing : w.passkeyId,
    invitationId: w.invitationId === otherWorld.invitationId ? missing : w.invitationId,
    datasetId: w.datasetId === otherWorld.datasetId ? missing : w.datasetId,
    itemId: w.itemId === otherWorld.itemId ? missing : w.itemId,
  });
  const absent = await send(replace(world));
  const normalise = (text: string) =>
    [
      otherWorld.orgId,
      otherWorld.keyId,
      otherWorld.sessionId,
      otherWorld.passkeyId,
      otherWorld.invitationId,
      otherWorld.datasetId,
      otherWorld.itemId,
      missing,
    ].reduce((t, id) => t.replaceAll(id, '{id}'), text);
  expect(absent.status).toBe(answer.status);
  expect(absent.contentType).toBe(answer.contentType);
  expect(normalise(absent.body)).toBe(normalise(answer.body));
}

/* ------------------------------------------------------------------------------------------------------- tests */

describe('the matrix covers the whole router and the whole REST API', () => {
  it('every procedure has a row, and every row is a procedure', () => {
    expect(Object.keys(ROWS).sort()).toEqual(Object.keys(procedures).sort());
  });

  it('every procedure declares an access the matrix understands', () => {
    const understood = new Set([
      'public',
      'session-token',
      'session',
      'key',
      'authenticated',
      ...Object.keys(MINIMUM_ROLE).map((p) => `org:${p}`),
    ]);
    const undeclared = Object.entries(procedures)
      .filter(([, p]) => !understood.has(p._def.meta?.access ?? ''))
      .map(([path, p]) => `${path}: ${p._def.meta?.access ?? '(none)'}`);
    expect(undeclared).toEqual([]);
  });

  it('the statement of sudo actions is exactly the procedures declaring sudo', () => {
    const declared = Object.entries(procedures)
      .filter(([, p]) => p._def.meta?.sudo === true)
      .map(([path]) => path)
      .sort();
    expect(declared).toEqual([...SUDO].sort());
  });

  it('the statement of minimum roles names every permission of the catalogue, no more', () => {
    expect(Object.keys(MINIMUM_ROLE).sort()).toEqual([...PERMISSION_NAMES].sort());
  });

  it('every OpenAPI operation is a procedure of the matrix', () => {
    expect(restOperations.length).toBeGreaterThan(0);
    for (const operation of restOperations) expect(Object.keys(ROWS)).toContain(operation.procedure);
    const withRest = Object.entries(procedures)
      .filter(([, p]) => (p._def.meta as { openapi?: unknown } | undefined)?.openapi)
      .map(([path]) => path)
      .sort();
    expect(restOperations.map((o) => o.procedure).sort()).toEqual(withRest);
  });
});

function cellsOf(path: string): [string, Caller, Target][] {
  const row = ROWS[path];
  const targets: Target[] = row?.object ? ['own', 'other'] : ['own'];
  const staleToo = SUDO.has(path) || STALE_SESSION_SAMPLE.has(path) || path === 'auth.confirmSudo';
  const callers = CALLERS.filter((c) => staleToo || !(c.kind === 'session' && c.stale));
  return callers.flatMap((caller) =>
    targets.map((t) => [`${t} · ${caller.name}`, caller, t] as [string, Caller, Target]),
  );
}

describe.concurrent.each(Object.keys(procedures))('tRPC %s', (path) => {
  const access = procedures[path]?._def.meta?.access ?? '';
  const row = ROWS[path] as Row;
  it.each(cellsOf(path))('%s', async (_name, caller, where) => {
    const { world, credentials } = await buildCell(caller, where, row);
    const answer = await callTrpc(path, row.input(world), credentials);
    const want = expected(path, access, row, caller, where, 'trpc');
    expect(answer.code, answer.body.slice(0, 300)).toBe(want);
    if (want !== 'OK' && where === 'other') {
      await expectIdenticalToMissing(answer, world, (w) => callTrpc(path, row.input(w), credentials));
    }
  });
});

describe.concurrent.each(restOperations.map((o) => [`${o.method} ${o.template}`, o] as const))(
  'REST %s',
  (_name, operation) => {
    const access = procedures[operation.procedure]?._def.meta?.access ?? '';
    const row = ROWS[operation.procedure] as Row;
    // REST is for keys: the session cell shows that a cookie is no credential there.
    const callers = CALLERS.filter((c) => c.kind !== 'session' || (c.role === 'owner' && !c.stale));
    const targets: Target[] = row?.object ? ['own', 'other'] : ['own'];
    const cells = callers.flatMap((caller) =>
      targets.map((t) => [`${t} · ${caller.name}`, caller, t] as const),
    );
    it.each(cells)('%s', async (_cell, caller, where) => {
      const { world, credentials } = await buildCell(caller, where, row);
      const answer = await callRest(operation, row.input(world), credentials);
      const want = expected(operation.procedure, access, row, caller, where, 'rest');
      expect(answer.code, answer.body.slice(0, 300)).toBe(want);
      if (want !== 'OK' && where === 'other') {
        await expectIdenticalToMissing(answer, world, (w) => callRest(operation, row.input(w), credentials));
      }
    });
  },
);

describe('tenant isolation inside one’s own organization', () => {
  it.each(['projects.get', 'projects.update', 'projects.delete'])(
    '%s with another organization’s project id answers exactly like a missing one, byte for byte',
    async (path) => {
      const row = ROWS[path] as Row;
      const owner: Caller = { name: 'owner', kind: 'session', role: 'owner' };
      const { world, credentials } = await buildCell(owner, 'own', row);
      const foreign = await callTrpc(
        path,
        row.input({ ...world, projectId: otherWorld.projectId }),
        credentials,
      );
      const missing = await callTrpc(path, row.input({ ...world, projectId: randomUUID() }), credentials);
      expect(foreign.code).toBe('NOT_FOUND');
      expect(missing.body).toBe(foreign.body);
      expect(missing.status).toBe(foreign.status);
      const theirs = await other.browser.trpc.projects.get.query({
        orgId: otherWorld.orgId,
        projectId: otherWorld.projectId,
      });
      expect(theirs.name).toBe('theirs');
    },
  );
});
