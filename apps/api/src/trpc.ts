import {
  DomainError,
  findInputProblem,
  INPUT_PROBLEM_MESSAGES,
  type Permission,
  type Role,
} from '@crowdee/core';
import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import { type Context, callerOf } from './context.ts';
import { toDomainError, toTrpcError, trpcErrorShape } from './errors.ts';
import { lazyFork } from './http/lazy-entity-manager.ts';
import type { Access, Meta } from './procedure-meta.ts';
import { requireOrgPermission } from './services/access.service.ts';
import { sudoRefusal } from './services/sudo.service.ts';

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    // No data transformer: plain JSON, dates as ISO strings, so any HTTP client can talk to /trpc.
    isDev: false,
    errorFormatter({ error, path }) {
      return trpcErrorShape(toDomainError(error), path ?? null);
    },
  });

export const router = t.router;

/**
 * Sudo mode, the one check: a procedure declaring `meta({ sudo: true })` runs only for a signed-in session whose last
 * proof of identity (sign-in or `auth.confirmSudo`) lies within the sudo window, read at the server's clock. A key or
 * session token never reaches one (it cannot confirm anything): SESSION_REQUIRED, even where the permission would let
 * keys through. Runs after the kind's own admission, so only a caller who may otherwise act is asked to confirm.
 */
async function requireSudo(ctx: Context, em: Context['em']): Promise<void> {
  const caller = callerOf(ctx.auth);
  if (!caller) throw toTrpcError(new DomainError('UNAUTHENTICATED'));
  if (caller.kind !== 'session') throw toTrpcError(new DomainError('SESSION_REQUIRED'));
  let refusal: DomainError | null;
  try {
    refusal = await sudoRefusal(em, caller.session, ctx.deps.clock());
  } catch (error) {
    throw toTrpcError(toDomainError(error));
  }
  if (refusal) throw toTrpcError(refusal);
}

const isOrgAccess = (access: Access | undefined) => access?.startsWith('org:') === true;

/**
 * A procedure kind: one middleware (each tRPC middleware hop copies the call's options and context, so the checks
 * every call needs run in one) that, in this order,
 *   - refuses calls whose credentials were presented and are bad (every procedure, even public ones);
 *   - applies the one input boundary for every procedure and both transports (for REST, the input assembled from
 *     path, query and body): no string anywhere in it may carry NUL or a lone surrogate, and it nests at most 64
 *     deep — before any procedure's own schema, so a procedure added tomorrow cannot forget it;
 *   - admits the caller this kind takes (`admit` throws otherwise) and adds what it knows to the context;
 *   - gives the call its own unit of work (a fresh fork, made on first use). The context is built once per HTTP
 *     request, so without this the calls of a tRPC batch would share one EntityManager: a call whose flush failed
 *     would leave its entities in the shared unit of work, and the next call's flush would retry them forever.
 */
function procedureKind<TAdmitted extends object>(access: Access, admit: (ctx: Context) => TAdmitted) {
  return t.procedure.meta({ access }).use(async ({ ctx, getRawInput, meta, next }) => {
    if (ctx.auth.kind === 'rejected') throw toTrpcError(ctx.auth.error);
    const problem = findInputProblem(await getRawInput());
    if (problem) {
      const message = INPUT_PROBLEM_MESSAGES[problem.kind];
      throw toTrpcError(
        new DomainError('VALIDATION_FAILED', `${problem.path}: ${message}`, {
          fieldErrors: [{ path: problem.path, message }],
        }),
      );
    }
    const admitted = admit(ctx);
    const em = lazyFork(ctx.deps);
    // An organization's procedures check sudo after the permission (see orgProcedure); all others here.
    if (meta?.sudo && !isOrgAccess(meta.access)) await requireSudo(ctx, em);
    return next({ ctx: { ...admitted, em } });
  });
}

export const publicProcedure = procedureKind('public', () => ({}));

/** Signed-in users only. Keys are refused with SESSION_REQUIRED: a key can never create, list or rotate keys. */
export const sessionProcedure = procedureKind('session', (ctx) => {
  const caller = callerOf(ctx.auth);
  if (caller?.kind === 'session') return { caller, session: caller.session, user: caller.user };
  throw toTrpcError(new DomainError(caller ? 'SESSION_REQUIRED' : 'UNAUTHENTICATED'));
});

/** API keys only: what a key can tell about itself (`GET /api/v1/me`) and do to itself (revoke). */
export const keyProcedure = procedureKind('key', (ctx) => {
  if (ctx.auth.kind === 'key') return { key: ctx.auth.key };
  // One message for missing, malformed and unknown keys: the answer must not help anyone probe.
  throw toTrpcError(new DomainError('UNAUTHENTICATED'));
});

/** Session tokens only: what a token can do to itself (refresh). */
export const sessionTokenProcedure = procedureKind('session-token', (ctx) => {
  if (ctx.auth.kind === 'session-token') return { token: ctx.auth.token };
  throw toTrpcError(new DomainError('UNAUTHENTICATED'));
});

/** A signed-in user, a valid key or a valid session token. */
export const authenticatedProcedure = procedureKind('authenticated', (ctx) => {
  const caller = callerOf(ctx.auth);
  if (caller) return { caller };
  throw toTrpcError(new DomainError('UNAUTHENTICATED'));
});

/**
 * Organization ids are compared as strings against the key's scope, cut-offs and cached memberships: one spelling
 * only (PostgreSQL would accept upper case, the in-memory checks would not).
 */
const orgInput = z.object({ orgId: z.uuid().overwrite((id) => id.toLowerCase()) });

/**
 * Procedures on an organization's resources. Takes the permission the procedure needs, resolves the organization
 * from the input, and asks the access service (which applies packages/core's rules). Works unchanged for sessions,
 * keys and session tokens.
 */
export function orgProcedure(permission: Permission) {
  return authenticatedProcedure
    .meta({ access: `org:${permission}` })
    .input(orgInput)
    .use(async ({ ctx, input, meta, next }) => {
      let role: Role;
      try {
        role = await requireOrgPermission(
          { deps: ctx.deps, em: ctx.em, ip: ctx.request.ip, actedIn: ctx.actedIn },
          ctx.caller,
          input.orgId,
          permission,
        );
      } catch (error) {
        throw toTrpcError(toDomainError(error));
      }
      if (meta?.sudo) await requireSudo(ctx, ctx.em);
      return next({ ctx: { org: { id: input.orgId, role } } });
    });
}
