import {
  DomainError,
  formatRateLimit,
  formatRateLimitPolicy,
  ipBucket,
  keyBudget,
  normalizeEmail,
  orgsInScope,
  planCharges,
  type RatePolicy,
  retryAfterSeconds,
} from '@crowdee/core';
import type { Request, RequestHandler, Response } from 'express';
import type { Auth } from '../context.ts';
import { sendError } from '../http/error-response.ts';
import { getRequestState } from '../http/request-state.ts';
import type { CallResolver, ResolvedCalls } from './call-resolver.ts';
import type { Charge, LimitDecision } from './rate-limit.store.ts';
import type { RateLimiting } from './rate-limiting.ts';

const EXPOSED_HEADERS = 'RateLimit, RateLimit-Policy, Retry-After';

const resolved = new WeakMap<Request, ResolvedCalls>();

/** The procedure paths a request resolved to (empty before `resolveCalls` ran or for an unknown path). */
export function resolvedProcedures(req: Request): string[] {
  return resolved.get(req)?.paths ?? [];
}

/** The calls `resolveCalls` found for a request (and charged for): the adapters run exactly these. */
export function resolvedCallsOf(req: Request): ResolvedCalls | undefined {
  return resolved.get(req);
}

/** The client's address: the socket's, or X-Forwarded-For only when Express trusts the proxy it came through. */
function clientBucket(req: Request): string {
  return ipBucket(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}

/** The input of call `index` as the adapter will read it (a batch's body is keyed by call index). */
function callInput(req: Request, calls: ResolvedCalls, index: number | null): unknown {
  if (index === null) return undefined;
  const body = req.body as Record<string, unknown> | undefined;
  return calls.batched ? body?.[String(index)] : body;
}

/** The email of a sign-in or reset attempt, normalised, for the per-address budgets. */
function signInEmail(input: unknown): string {
  const email = (input as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? normalizeEmail(email).slice(0, 254) : '';
}

/** The budget behind valid credentials: one per user, shared by their session and every key they hold. */
function authenticatedBudget(auth: Auth, limits: RateLimiting): { policy: RatePolicy; key: string } | null {
  const base = limits.policies.authenticated;
  if (auth.kind === 'session') return { policy: { ...base, name: 'user' }, key: `user:${auth.user.id}` };
  // A session token spends its user's budget, like the browser session it is bound to.
  if (auth.kind === 'session-token')
    return { policy: { ...base, name: 'user' }, key: `user:${auth.token.creator.id}` };
  if (auth.kind !== 'key') return null;
  const key = auth.key;
  const budget = keyBudget(
    base,
    limits.overrides.all,
    { id: key.id, creatorId: key.creator.id },
    orgsInScope(key, key.creatorRoles.keys()),
    limits.clock(),
  );
  return { policy: budget.policy, key: budget.bucket };
}

/** Counters for a plan; repeats (two sign-ups in one batch) are merged, so the store sees each counter once. */
function chargesFor(
  req: Request,
  limits: RateLimiting,
  calls: ResolvedCalls,
  auth: Auth | undefined,
): Charge[] {
  const ip = clientBucket(req);
  const caller = auth ? authenticatedBudget(auth, limits) : null;
  const merged = new Map<string, Charge>();
  const add = (policy: RatePolicy, key: string, points: number) => {
    const existing = merged.get(key);
    if (existing) existing.points += points;
    else merged.set(key, { policy, key, points });
  };
  const { policies } = limits;
  for (const planned of planCharges(calls.calls, caller !== null)) {
    const { tier, units } = planned;
    if (tier === 'authenticated' && caller) add(caller.policy, caller.key, units);
    else if (tier === 'sign-in')
      add(policies[tier], `signin:${ip}:${signInEmail(callInput(req, calls, planned.call))}`, units);
    else if (tier === 'sign-up') add(policies[tier], `signup:${ip}`, units);
    else if (tier === 'leak-report') add(policies[tier], `leak:${ip}`, units);
    else if (tier === 'password-reset') {
      // Per IP (one client asking for many addresses) and per address (many clients mailing one victim).
      add(policies[tier], `reset:${ip}`, units);
      const email = signInEmail(callInput(req, calls, planned.call));
      add(policies['password-reset-email'], `reset-email:${email}`, units);
    } else if (tier === 'mailed-link') add(policies[tier], `link:${ip}`, units);
    else if (tier === 'second-factor')
      // The signed-in steps (enrolment) per user; the anonymous sign-in step per IP. The per-account budget every
      // answer also pays is charged by the service, once it knows whose challenge it is.
      add(policies[tier], `${tier}:${auth?.kind === 'session' ? `user:${auth.user.id}` : `ip:${ip}`}`, units);
    else if (tier === 'verification-email' || tier === 'invitation' || tier === 'password-change')
      // Session procedures: per user (an anonymous caller is refused anyway, and pays per IP here).
      add(policies[tier], `${tier}:${auth?.kind === 'session' ? `user:${auth.user.id}` : `ip:${ip}`}`, units);
    else add(policies.anonymous, `ip:${ip}`, units);
  }
  return [...merged.values()];
}

/**
 * Takes every charge or none, sets the draft RateLimit headers, and answers 429 (with Retry-After, never earlier
 * than a violated window resets) when any budget refuses. Returns whether the request may go on.
 */
async function charge(
  req: Request,
  res: Response,
  limits: RateLimiting,
  charges: Charge[],
): Promise<boolean> {
  const { allowed, decisions } = await limits.store.consumeAll(charges);
  res.setHeader('RateLimit-Policy', decisions.map((d) => formatRateLimitPolicy(d.policy)).join(', '));
  res.setHeader(
    'RateLimit',
    decisions.map((d) => formatRateLimit(d.policy, d.remaining, d.resetSeconds)).join(', '),
  );
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  if (allowed) return true;
  const violated = decisions.filter((d: LimitDecision) => !d.allowed);
  const retryAfter = Math.max(
    ...violated.map((d) => Math.max(retryAfterSeconds(d.msBeforeNext), d.resetSeconds)),
  );
  res.setHeader('Retry-After', String(retryAfter));
  const names = violated.map((d) => d.policy.name);
  sendError(
    req,
    res,
    new DomainError('RATE_LIMITED', `Rate limit exceeded (${names.join(', ')}). Retry in ${retryAfter} s.`, {
      retryAfter,
      violatedPolicies: names,
    }),
  );
  return false;
}

/**
 * First in front of /trpc and /api/v1, before any work (no body parsing, no credential lookup): finds the calls the
 * request will run with the adapter's own rules. A request naming a procedure that does not exist, or whose path
 * cannot be decoded, is charged as anonymous traffic and refused here (404, or 400 for a malformed path).
 */
export function resolveCalls(
  limits: RateLimiting | null,
  resolve: CallResolver,
  /** The methods a known path takes (null for an unknown path): another method gets 405 with `Allow`. */
  allowedMethods?: (req: Request) => string[] | null,
): RequestHandler {
  return async (req, res, next) => {
    const calls = resolve(req);
    if (!calls.malformed && calls.calls.every((call) => call !== null)) {
      resolved.set(req, calls);
      return next();
    }
    if (limits) {
      const units = calls.calls.length;
      const anonymous = [
        { policy: limits.policies.anonymous, key: `ip:${clientBucket(req)}`, points: units },
      ];
      if (!(await charge(req, res, limits, anonymous))) return;
    }
    const allowed = calls.malformed ? null : (allowedMethods?.(req) ?? null);
    if (allowed && !allowed.includes(req.method)) {
      res.setHeader('Allow', allowed.join(', '));
      sendError(
        req,
        res,
        new DomainError(
          'METHOD_NOT_ALLOWED',
          `${req.method} is not allowed here; use ${allowed.join(', ')}.`,
        ),
      );
      return;
    }
    sendError(
      req,
      res,
      calls.malformed
        ? new DomainError('BAD_REQUEST', 'The request path is not valid percent-encoding.')
        : new DomainError(
            'NOT_FOUND',
            `No procedure or route for ${req.method} ${req.originalUrl.split('?')[0]}.`,
          ),
    );
  };
}

/**
 * After authentication, in front of the tRPC and REST adapters (so a limited batch gets a real 429 rather than a
 * 207): charges the calls `resolveCalls` found, each to the budget its procedure declares.
 */
export function rateLimit(limits: RateLimiting): RequestHandler {
  return async (req, res, next) => {
    const calls = resolved.get(req);
    if (!calls) return next(new Error('rate limits: calls were not resolved before charging'));
    const charges = chargesFor(req, limits, calls, getRequestState(req)?.auth);
    if (await charge(req, res, limits, charges)) next();
  };
}

/** Everything outside /trpc and /api/v1 (discovery, docs, the app's files): one unit of `tier` per client IP. */
export function publicRateLimit(limits: RateLimiting, tier: 'anonymous' | 'health'): RequestHandler {
  return async (req, res, next) => {
    const key = `${tier === 'health' ? 'health' : 'ip'}:${clientBucket(req)}`;
    if (await charge(req, res, limits, [{ policy: limits.policies[tier], key, points: 1 }])) next();
  };
}
