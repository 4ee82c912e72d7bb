import {
  DomainError,
  formatRateLimit,
  formatRateLimitPolicy,
  ipBucket,
  normalizeEmail,
  orgsInScope,
  type RatePolicy,
  type RateTier,
  resolveKeyPolicy,
  retryAfterSeconds,
} from '@crowdee/core';
import type { Request, RequestHandler } from 'express';
import { sendError, trpcPaths } from '../http/error-response.ts';
import { getRequestState } from '../http/request-state.ts';
import type { OverrideCache } from './override-cache.ts';
import type { LimitDecision, RateLimitStore } from './rate-limit.store.ts';

export interface RateLimiting {
  store: RateLimitStore;
  overrides: OverrideCache;
  policies: Record<RateTier, RatePolicy>;
  clock: () => Date;
}

interface Charge {
  policy: RatePolicy;
  key: string;
  points: number;
}

export const EXPOSED_HEADERS = 'RateLimit, RateLimit-Policy, Retry-After';

function named(policy: RatePolicy, name: string): RatePolicy {
  return { ...policy, name };
}

/** The client's address: the socket's, or X-Forwarded-For only when Express trusts the proxy it came through. */
function clientBucket(req: Request): string {
  return ipBucket(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}

/** The email of a sign-in attempt (batched or not), normalised, for the per IP + email budget. */
function signInEmail(req: Request, index: number, batched: boolean): string {
  const body = req.body as Record<string, unknown> | undefined;
  const input = (batched ? body?.[String(index)] : body) as { email?: unknown } | undefined;
  return typeof input?.email === 'string' ? normalizeEmail(input.email).slice(0, 254) : '';
}

/** What a request costs, and to whom: the caller's tier, plus the stricter budgets of the sensitive endpoints. */
function chargesFor(req: Request, limits: RateLimiting, mode: 'api' | 'trpc' | 'public'): Charge[] {
  const { policies } = limits;
  const ip = clientBucket(req);
  const state = mode === 'public' ? undefined : getRequestState(req);
  const auth = state?.auth;
  const paths = mode === 'trpc' ? trpcPaths(req) : [];
  // A tRPC batch costs one unit per call in it.
  const units = mode === 'trpc' ? Math.max(1, paths.length) : 1;
  const charges: Charge[] = [];

  if (auth?.kind === 'key') {
    const key = auth.key;
    const orgIds = orgsInScope(key, key.creatorRoles.keys());
    const policy = resolveKeyPolicy(
      named(policies.authenticated, 'key'),
      limits.overrides.all,
      key.id,
      orgIds,
      limits.clock(),
    );
    charges.push({ policy, key: `key:${key.id}`, points: units });
  } else if (auth?.kind === 'session') {
    charges.push({
      policy: named(policies.authenticated, 'user'),
      key: `user:${auth.user.id}`,
      points: units,
    });
  } else {
    charges.push({ policy: policies.anonymous, key: `ip:${ip}`, points: units });
  }

  if (req.method === 'POST') {
    const batched = req.query.batch === '1' || req.query.batch === 'true';
    paths.forEach((path, index) => {
      if (path === 'auth.signIn') {
        charges.push({
          policy: policies['sign-in'],
          key: `signin:${ip}:${signInEmail(req, index, batched)}`,
          points: 1,
        });
      } else if (path === 'auth.signUp') {
        charges.push({ policy: policies['sign-up'], key: `signup:${ip}`, points: 1 });
      } else if (path === 'keys.revokeLeaked') {
        charges.push({ policy: policies['leak-report'], key: `leak:${ip}`, points: 1 });
      }
    });
    if (mode === 'api' && req.path === '/keys/revoke-leaked') {
      charges.push({ policy: policies['leak-report'], key: `leak:${ip}`, points: 1 });
    }
  }
  return charges;
}

/**
 * One middleware in front of /trpc, /api and the public routes (in front of the tRPC adapter, so a limited batch
 * gets a real 429 rather than a 207). Every answer carries RateLimit-Policy and RateLimit; a refusal is a 429
 * with Retry-After (whole seconds, never earlier than the window's reset).
 */
export function rateLimit(limits: RateLimiting, mode: 'api' | 'trpc' | 'public'): RequestHandler {
  return async (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    const charges = chargesFor(req, limits, mode);
    const decisions: LimitDecision[] = await Promise.all(
      charges.map((c) => limits.store.consume(c.policy, c.key, c.points)),
    );
    res.setHeader('RateLimit-Policy', decisions.map((d) => formatRateLimitPolicy(d.policy)).join(', '));
    res.setHeader(
      'RateLimit',
      decisions.map((d) => formatRateLimit(d.policy, d.remaining, d.resetSeconds)).join(', '),
    );
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    const violated = decisions.filter((d) => !d.allowed);
    if (violated.length === 0) return next();
    // Never earlier than any violated window resets.
    const retryAfter = Math.max(
      ...violated.map((d) => Math.max(retryAfterSeconds(d.msBeforeNext), d.resetSeconds)),
    );
    res.setHeader('Retry-After', String(retryAfter));
    const names = violated.map((d) => d.policy.name);
    sendError(
      req,
      res,
      new DomainError(
        'RATE_LIMITED',
        `Rate limit exceeded (${names.join(', ')}). Retry in ${retryAfter} s.`,
        {
          retryAfter,
          violatedPolicies: names,
        },
      ),
    );
  };
}
