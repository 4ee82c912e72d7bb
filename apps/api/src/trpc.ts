import {
  authorize,
  DomainError,
  ERROR_TABLE,
  findInputProblem,
  INPUT_PROBLEM_MESSAGES,
  type KeyAccess,
  keyAccess,
  type Permission,
  type ProcedureRateTier,
  type Role,
} from '@crowdee/core';
import { Membership } from '@crowdee/db';
import type { EntityManager } from '@mikro-orm/postgresql';
import { initTRPC } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { z } from 'zod';
import type { Context } from './context.ts';
import { toDomainError, toTrpcError } from './errors.ts';
import { lazyFork } from './http/lazy-entity-manager.ts';
import type { CachedKey, CachedSessionToken } from './services/key-cache.ts';
import type { ActiveSession, SessionUser } from './services/sessions.service.ts';

/**
 * Every procedure declares what it needs. The procedure kinds below set `access`; a procedure built any other way
 * has none, and the router test fails (deny by default).
 */
export type Access = 'public' | 'session' | 'key' | 'session-token' | 'authenticated' | `org:${Permission}`;
export interface Meta extends OpenApiMeta {
  access?: Access;
  /**
   * A budget of the procedure's own (sign-in, sign-up, leak report), paid on every call together with the anonymous
   * per-IP budget, whatever credentials come with it. Without it a call costs the caller's budget.
   */
  rateLimit?: ProcedureRateTier;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    // No data transformer: plain JSON, dates as ISO strings, so any HTTP client can talk to /trpc.
    isDev: false,
    errorFormatter({ shape, error, path }) {
      const domain = toDomainError(error);
      const details = domain.details ?? {};
      return {
        message: domain.message,
        code: TRPC_ERROR_CODES_BY_KEY[ERROR_TABLE[domain.code].trpc] ?? shape.code,
        data: {
          /** Our stable domain code (the same as REST's `code`), e.g. KEY_REVOKED or ORG_OUT_OF_SCOPE. */
          code: domain.code,
          /** tRPC's own code, for clients that branch on it. */
          trpcCode: ERROR_TABLE[domain.code].trpc,
          httpStatus: domain.status,
          path: path ?? null,
          ...(Array.isArray(details.fieldErrors) ? { fieldErrors: details.fieldErrors } : {}),
          ...(typeof details.retryAfter === 'number' ? { retryAfter: details.retryAfter } : {}),
          ...(typeof details.requiredRole === 'string' ? { requiredRole: details.requiredRole } : {}),
          ...(typeof details.requiredPermission === 'string'
            ? { requiredPermission: details.requiredPermission }
            : {}),
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * The caller on whose behalf a procedure acts: a signed-in user, a key acting for its creator, or a session token
 * acting as the user whose sign-in it is bound to (with their current roles, uncapped, but never session-only).
 */
export type Caller =
  | { kind: 'session'; userId: string; user: SessionUser; session: ActiveSession }
  | { kind: 'key'; userId: string; key: CachedKey }
  | { kind: 'token'; userId: string; token: CachedSessionToken };

/** The caller behind valid credentials, or null when there are none. */
export function callerOf(auth: Context['auth']): Caller | null {
  if (auth.kind === 'session')
    return { kind: 'session', userId: auth.user.id, user: auth.user, session: auth.session };
  if (auth.kind === 'key') return { kind: 'key', userId: auth.key.creator.id, key: auth.key };
  if (auth.kind === 'session-token')
    return { kind: 'token', userId: auth.token.creator.id, token: auth.token };
  return null;
}

/**
 * Each call gets its own unit of work (a fresh fork, made on first use). The context is built once per HTTP request,
 * so without this the calls of a tRPC batch would share one EntityManager: a call whose flush failed would leave its
 * entities in the shared unit of work, and the next call's flush would retry them (and wait on them) forever.
 */
const ownUnitOfWork = t.procedure.use(({ ctx, next }) => next({ ctx: { em: lazyFork(ctx.deps) } }));

const credentialsChecked = ownUnitOfWork
  .use(({ ctx, next }) => {
    if (ctx.auth.kind === 'rejected') throw toTrpcError(ctx.auth.error);
    return next();
  })
  /**
   * The one input boundary for every procedure and both transports (for REST, the input assembled from path, query
   * and body): no string anywhere in it may carry NUL or a lone surrogate, and it nests at most 64 deep. Runs before
   * any procedure's own schema, so a procedure added tomorrow cannot forget it.
   */
  .use(async ({ getRawInput, next }) => {
    const problem = findInputProblem(await getRawInput());
    if (problem) {
      const message = INPUT_PROBLEM_MESSAGES[problem.kind];
      throw toTrpcError(
        new DomainError('VALIDATION_FAILED', `${problem.path}: ${message}`, {
          fieldErrors: [{ path: problem.path, message }],
        }),
      );
    }
    return next();
  });

export const publicProcedure = credentialsChecked.meta({ access: 'public' });

/** Signed-in users only. Keys are refused with SESSION_REQUIRED: a key can never create, list or rotate keys. */
export const sessionProcedure = credentialsChecked.meta({ access: 'session' }).use(({ ctx, next }) => {
  const caller = callerOf(ctx.auth);
  if (caller?.kind === 'session')
    return next({ ctx: { caller, session: caller.session, user: caller.user } });
  throw toTrpcError(new DomainError(caller ? 'SESSION_REQUIRED' : 'UNAUTHENTICATED'));
});

/** API keys only: what a key can tell about itself (`GET /api/v1/me`) and do to itself (revoke). */
export const keyProcedure = credentialsChecked.meta({ access: 'key' }).use(({ ctx, next }) => {
  if (ctx.auth.kind === 'key') return next({ ctx: { key: ctx.auth.key } });
  // One message for missing, malformed and unknown keys: the answer must not help anyone probe.
  throw toTrpcError(new DomainError('UNAUTHENTICATED'));
});

/** Session tokens only: what a token can do to itself (refresh). */
export const sessionTokenProcedure = credentialsChecked
  .meta({ access: 'session-token' })
  .use(({ ctx, next }) => {
    if (ctx.auth.kind === 'session-token') return next({ ctx: { token: ctx.auth.token } });
    throw toTrpcError(new DomainError('UNAUTHENTICATED'));
  });

/** A signed-in user, a valid key or a valid session token. */
export const authenticatedProcedure = credentialsChecked
  .meta({ access: 'authenticated' })
  .use(({ ctx, next }) => {
    const caller = callerOf(ctx.auth);
    if (caller) return next({ ctx: { caller } });
    throw toTrpcError(new DomainError('UNAUTHENTICATED'));
  });

const notFound = () => new DomainError('NOT_FOUND', 'Organization not found.');

function refusal(access: Exclude<KeyAccess, { ok: true }>): DomainError {
  switch (access.reason) {
    case 'out-of-scope':
      return new DomainError('ORG_OUT_OF_SCOPE');
    case 'cut-off':
      return new DomainError('KEY_CUT_OFF');
    default:
      return notFound();
  }
}

/**
 * A caller's role in an organization given the membership role found for them (for a key, its creator's): for a
 * key, packages/core's keyAccess — scope and cut-offs first, then min(key role, creator's role).
 */
function roleFromMembership(caller: Caller, orgId: string, membershipRole: Role | null): Role {
  if (caller.kind === 'key') {
    const access = keyAccess(caller.key, orgId, membershipRole);
    if (access.ok) return access.role;
    throw refusal(access);
  }
  if (membershipRole === null) throw notFound();
  return membershipRole;
}

async function membershipRole(em: EntityManager, userId: string, orgId: string): Promise<Role | null> {
  const membership = await em.findOne(
    Membership,
    { user: userId, organization: orgId },
    { fields: ['role'], disableIdentityMap: true },
  );
  return membership?.role ?? null;
}

/**
 * The caller's role in an organization, right now. Sessions read the membership on every request; keys and session
 * tokens use the user's memberships from the credential cache, which every membership change invalidates.
 */
export async function roleInOrganization(ctx: Context, caller: Caller, orgId: string): Promise<Role> {
  if (caller.kind === 'key') {
    const access = ctx.deps.keyVerifier.accessIn(caller.key, orgId, ctx.request.ip);
    if (access.ok) return access.role;
    throw refusal(access);
  }
  const role =
    caller.kind === 'session'
      ? await membershipRole(ctx.em, caller.userId, orgId)
      : (caller.token.creatorRoles.get(orgId) ?? null);
  return roleFromMembership(caller, orgId, role);
}

/**
 * The caller's role read inside a transaction that holds the organization's lock: membership changes re-check the
 * actor against this, not against the role read when the request began (which a concurrent change may have
 * lowered). For a key, the creator's membership is read from the database, not the cache.
 */
export async function lockedRoleInOrganization(
  tem: EntityManager,
  caller: Caller,
  orgId: string,
): Promise<Role> {
  return roleFromMembership(caller, orgId, await membershipRole(tem, caller.userId, orgId));
}

/** Throws FORBIDDEN / SESSION_REQUIRED unless `role` (via this kind of caller) holds `permission`. */
export function assertPermission(role: Role, permission: Permission, caller: Caller): void {
  const decision = authorize(role, permission, caller.kind);
  if (decision.ok) return;
  if (decision.code === 'SESSION_REQUIRED') throw new DomainError('SESSION_REQUIRED');
  const who = caller.kind === 'key' ? 'this key acts with' : 'your role is';
  throw new DomainError(
    'FORBIDDEN',
    `This action (${permission}) needs the ${decision.required} role; ${who} ${role}.`,
    { requiredRole: decision.required, requiredPermission: permission },
  );
}

/**
 * Organization ids are compared as strings against the key's scope, cut-offs and cached memberships: one spelling
 * only (PostgreSQL would accept upper case, the in-memory checks would not).
 */
const orgInput = z.object({ orgId: z.uuid().overwrite((id) => id.toLowerCase()) });

/**
 * The caller's role in an organization if it holds `permission` there; throws the same refusals as `orgProcedure`
 * (UNAUTHENTICATED, NOT_FOUND, ORG_OUT_OF_SCOPE, KEY_CUT_OFF, FORBIDDEN naming the role). For the few Express
 * routes that must decide before reading a body tRPC cannot read (multipart uploads).
 */
export async function authorizeInOrganization(
  ctx: Context,
  permission: Permission,
  orgId: string,
): Promise<Role> {
  if (ctx.auth.kind === 'rejected') throw ctx.auth.error;
  const caller = callerOf(ctx.auth);
  if (!caller) throw new DomainError('UNAUTHENTICATED');
  const role = await roleInOrganization(ctx, caller, orgId);
  assertPermission(role, permission, caller);
  return role;
}

/**
 * Procedures on an organization's resources. Takes the permission the procedure needs, resolves the organization
 * from the input, and asks `packages/core`. Works unchanged for sessions and keys.
 */
export function orgProcedure(permission: Permission) {
  return authenticatedProcedure
    .meta({ access: `org:${permission}` })
    .input(orgInput)
    .use(async ({ ctx, input, next }) => {
      let role: Role;
      try {
        role = await roleInOrganization(ctx, ctx.caller, input.orgId);
        assertPermission(role, permission, ctx.caller);
      } catch (error) {
        throw toTrpcError(toDomainError(error));
      }
      return next({ ctx: { org: { id: input.orgId, role } } });
    });
}
