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
import { requestSlot } from '../http/request-slot.ts';
import { getRequestState } from '../http/request-state.ts';
import type { CallResolver, ResolvedCalls } from './call-resolver.ts';
import type { Charge, ConsumeResult, LimitDecision } from './rate-limit.store.ts';
import type { RateLimiting } from './rate-limiting.ts';

const EXPOSED_HEADERS = 'RateLimit, RateLimit-Policy, Retry-After';

const resolved = requestSlot<ResolvedCalls>('crowdee.resolvedCalls');

/** The procedure paths a request resolved to (empty before `resolveCalls` ran or for an unknown path). */
export function resolvedProcedures(req: Request): readonly string[] {
  return resolved.get(req)?.paths ?? [];
}

/** The calls `resolveCalls` found for a request (and charged for): the adapters run exactly these. */
export function resolvedCallsOf(req: Request): ResolvedCalls | undefined {
  return resolved.get(req);
}

/**
 * `ipBucket` of recent addresses: the bucket is a pure function of the address, and a busy server sees the same few
 * addresses again and again (parsing one costs BigInt arithmetic). Bounded: emptied when it grows past 10,000.
 */
const buckets = new Map<string, string>();

/** The client's address: the socket's, or X-Forwarded-For only when Express trusts the proxy it came through. */
function clientBucket(req: Request): string {
  // As authentication read it (the same expression), so Express works out the proxy chain once per request.
  const address = getRequestState(req)?.info.ip ?? req.ip ?? req.socket.remoteAddress ?? 'unknown';
  let bucket = buckets.get(address);
  if (bucket === undefined) {
    bucket = ipBucket(address);
    if (buckets.size >= 10_000) buckets.clear();
    buckets.set(address, bucket);
  }
  return bucket;
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
function authenticatedBudget(
  auth: Auth,
  limits: RateLimiting,
  userPolicy: RatePolicy,
): { policy: RatePolicy; key: string } | null {
  if (auth.kind === 'session') return { policy: userPolicy, key: `user:${auth.user.id}` };
  // A session token spends its user's budget, like the browser session it is bound to.
  if (auth.kind === 'session-token') return { policy: userPolicy, key: `user:${auth.token.creator.id}` };
  if (auth.kind !== 'key') return null;
  const key = auth.key;
  const budget = keyBudget(
    limits.policies.authenticated,
    limits.overrides.all,
    { id: key.id, creatorId: key.creator.id },
    () => orgsInScope(key, key.creatorRoles.keys()),
    limits.clock,
  );
  return { policy: budget.policy, key: budget.bucket };
}

/** Counters for a plan; repeats (two sign-ups in one batch) are merged, so the store sees each counter once. */
function chargesFor(
  req: Request,
  limits: RateLimiting,
  userPolicy: RatePolicy,
  calls: ResolvedCalls,
  auth: Auth | undefined,
): Charge[] {
  const ip = clientBucket(req);
  const caller = auth ? authenticatedBudget(auth, limits, userPolicy) : null;
  // A request has a few charges at most: merging by a scan beats building a map for each request.
  const charges: Charge[] = [];
  const add = (policy: RatePolicy, key: string, points: number) => {
    const existing = charges.find((c) => c.key === key);
    if (existing) existing.points += points;
    else charges.push({ policy, key, points });
  };
  const { policies } = limits;
  for (const planned of planCharges(calls.calls, caller !== null)) {
    const { tier, units } = planned;
    if (tier === 'authenticated' && caller) add(caller.policy, caller.key, units);
    else if (tier === 'sign-in')
      add(policies[tier], `signin:${ip}:${signInEmail(callInput(req, calls, planned.call))}`, units);
    else if (tier === 'passkey-sign-in') add(policies[tier], `passkey-signin:${ip}`, units);
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
    else if (
      tier === 'verification-email' ||
      tier === 'invitation' ||
      tier === 'password-change' ||
      tier === 'reauthentication'
    )
      // Session procedures: per user (an anonymous caller is refused anyway, and pays per IP here).
      add(policies[tier], `${tier}:${auth?.kind === 'session' ? `user:${auth.user.id}` : `ip:${ip}`}`, units);
    else add(policies.anonymous, `ip:${ip}`, units);
  }
  return charges;
}

function joined(decisions: readonly LimitDecision[], format: (d: LimitDecision) => string): string {
  if (decisions.length === 1) return format(decisions[0] as LimitDecision);
  return decisions.map(format).join(', ');
}

const policyField = (d: LimitDecision) => formatRateLimitPolicy(d.policy);
const limitField = (d: LimitDecision) => formatRateLimit(d.policy, d.remaining, d.resetSeconds);

/**
 * Sets the draft RateLimit headers for the store's decision and answers 429 (with Retry-After, never earlier than a
 * violated window resets) when any budget refused. Returns whether the request may go on.
 */
function answer(req: Request, res: Response, { allowed, decisions }: ConsumeResult): boolean {
  res.setHeader('RateLimit-Policy', joined(decisions, policyField));
  res.setHeader('RateLimit', joined(decisions, limitField));
  // REST's CORS middleware already exposes these (and more): keep its list.
  if (!res.hasHeader('Access-Control-Expose-Headers'))
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
 * Takes every charge or none (see the store) and answers, then calls `next` when the request may go on. Decided
 * synchronously when the counters are in this process; only a Redis store makes it wait (and return a promise,
 * whose failure Express passes on as an error).
 */
function charge(
  req: Request,
  res: Response,
  limits: RateLimiting,
  charges: Charge[],
  next: () => void,
): Promise<void> | undefined {
  const now = limits.store.consumeNow(charges);
  if (now) {
    if (answer(req, res, now)) next();
    return undefined;
  }
  return limits.store.consumeAll(charges).then((decided) => {
    if (answer(req, res, decided)) next();
  });
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
  const refuse = (req: Request, res: Response, calls: ResolvedCalls) => {
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
  return (req, res, next) => {
    const calls = resolve(req);
    if (!calls.malformed && calls.calls.every((call) => call !== null)) {
      resolved.set(req, calls);
      return next();
    }
    if (!limits) return refuse(req, res, calls);
    const units = calls.calls.length;
    const anonymous = [{ policy: limits.policies.anonymous, key: `ip:${clientBucket(req)}`, points: units }];
    return charge(req, res, limits, anonymous, () => refuse(req, res, calls));
  };
}

/**
 * After authentication, in front of the tRPC and REST adapters (so a limited batch gets a real 429 rather than a
 * 207): charges the calls `resolveCalls` found, each to the budget its procedure declares.
 */
export function rateLimit(limits: RateLimiting): RequestHandler {
  // The policy every signed-in user's budget is counted under, named once (not per request).
  const userPolicy: RatePolicy = { ...limits.policies.authenticated, name: 'user' };
  return (req, res, next) => {
    const calls = resolved.get(req);
    if (!calls) return next(new Error('rate limits: calls were not resolved before charging'));
    const charges = chargesFor(req, limits, userPolicy, calls, getRequestState(req)?.auth);
    return charge(req, res, limits, charges, next);
  };
}

/** Everything outside /trpc and /api/v1 (discovery, docs, the app's files): one unit of `tier` per client IP. */
export function publicRateLimit(limits: RateLimiting, tier: 'anonymous' | 'health'): RequestHandler {
  const prefix = tier === 'health' ? 'health:' : 'ip:';
  return (req, res, next) =>
    charge(
      req,
      res,
      limits,
      [{ policy: limits.policies[tier], key: `${prefix}${clientBucket(req)}`, points: 1 }],
      next,
    );
}
