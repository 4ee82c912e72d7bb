import type { UsageSubject } from '@crowdee/core';
import type { RequestHandler } from 'express';
import type { Auth } from '../context.ts';
import { getRequestState } from '../http/request-state.ts';
import type { UsageRecorder } from './usage-recorder.ts';

/**
 * Right after authentication on /trpc and /api/v1: once the answer is sent (its status known — including a 429
 * from the rate limiter, which answers before any procedure runs), the request is counted for its key and for the
 * organizations it acted in. Requests without valid credentials are not counted: usage belongs to a caller.
 */
export function countUsage(usage: UsageRecorder): RequestHandler {
  return (req, res, next) => {
    if (!usage.enabled) return next();
    // 'finish' is emitted once per response: `on` without `once`'s wrapper and removal.
    res.on('finish', () => {
      const state = getRequestState(req);
      if (!state) return;
      const { auth } = state;
      const subjects: UsageSubject[] = [];
      if (auth.kind === 'key') subjects.push({ kind: 'key', id: auth.key.id });
      else if (auth.kind !== 'session' && auth.kind !== 'session-token') return;
      const orgs = state.actedIn.size > 0 ? state.actedIn : singleScope(auth);
      for (const id of orgs) subjects.push({ kind: 'org', id });
      usage.record(subjects, res.statusCode, state.info.ip);
    });
    next();
  };
}

/**
 * A request refused before its procedure ran (a 429, a malformed input) acted in no organization; a key scoped to
 * exactly one organization can only have meant that one, so it is counted there.
 */
function singleScope(auth: Auth): readonly string[] {
  const scope = auth.kind === 'key' ? auth.key.scopeOrgIds : null;
  return scope && scope.length === 1 ? scope : [];
}
