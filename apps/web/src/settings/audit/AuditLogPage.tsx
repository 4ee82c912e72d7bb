import { useInfiniteQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { type ActiveOrganization, useSession } from '../../app/session.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { EmptyState, LoadError, Loading } from '../../components/Status.tsx';
import { formatDateTime, relativeTime } from '../../lib/format.ts';
import { type AuditEvent, useTRPC } from '../../lib/trpc.ts';

const PAGE_SIZE = 20;

/** Plain-language names for the API's audit actions; an action added later still shows, under its code. */
const ACTION_LABELS: Record<string, string> = {
  'auth.sign_up': 'Signed up',
  'auth.sign_in': 'Signed in',
  'auth.sign_in_failed': 'Failed sign-in',
  'auth.sign_out': 'Signed out',
  'session_token.created': 'Session token created',
  'session_token.refreshed': 'Session token refreshed',
  'session.revoked': 'Session signed out',
  'org.created': 'Organization created',
  'org.updated': 'Organization renamed',
  'org.deleted': 'Organization deleted',
  'org.key_policy_changed': 'Key policy changed',
  'member.added': 'Member added',
  'member.role_changed': 'Member role changed',
  'member.removed': 'Member removed',
  'member.left': 'Member left',
  'key.created': 'API key created',
  'key.updated': 'API key renamed',
  'key.rotated': 'API key rotated',
  'key.revoked': 'API key revoked',
  'project.created': 'Project created',
  'project.updated': 'Project updated',
  'project.deleted': 'Project deleted',
  'run.started': 'Verification run started',
  'run.cancelled': 'Verification run cancelled',
};

export function AuditLogPage() {
  const { activeOrg } = useSession();
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>Audit log</h1>
        <p className="page-description">
          {activeOrg
            ? `Who did what in ${activeOrg.name}: sign-ins, membership changes, key activity. Newest first.`
            : 'Create or join an organization to see its audit log.'}
        </p>
      </header>
      {activeOrg ? <AuditLog org={activeOrg} /> : null}
    </div>
  );
}

function AuditLog({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const headingId = useId();
  // The API decides who may read the log; a 403 tells the reader which role it takes.
  const log = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { orgId: org.id, limit: PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const events = log.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            Events
          </h2>
        </div>
      </div>
      {log.isPending ? (
        <Loading label="Loading the audit log…" />
      ) : log.isError && events.length === 0 ? (
        <LoadError
          error={log.error}
          onRetry={() => void log.refetch()}
          context="Couldn’t load the audit log"
        />
      ) : events.length === 0 ? (
        <EmptyState title="No events yet" />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Audit log of {org.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Event</th>
                  <th scope="col">Details</th>
                  <th scope="col">IP address</th>
                </tr>
              </thead>
              <tbody>
                {events.map((event) => (
                  <AuditRow key={event.id} event={event} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="card-footer pagination">
            <span className="muted">
              Showing {events.length} {events.length === 1 ? 'event' : 'events'}
            </span>
            {log.isFetchNextPageError ? (
              <ErrorNotice
                error={log.error}
                compact
                onRetry={() => void log.fetchNextPage()}
                context="Couldn’t load more events"
              />
            ) : null}
            {log.hasNextPage ? (
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => void log.fetchNextPage()}
                disabled={log.isFetchingNextPage}
              >
                {log.isFetchingNextPage ? 'Loading…' : 'Load older events'}
              </button>
            ) : (
              <span className="muted">This is the oldest event.</span>
            )}
          </div>
        </>
      )}
    </section>
  );
}

function actorLabel(event: AuditEvent): string {
  if (event.actorType === 'key') return event.actorName ? `${event.actorName} (API key)` : 'API key';
  if (event.actorType === 'session-token')
    return event.actorName ? `${event.actorName} (session token)` : 'Session token';
  if (event.actorType === 'system') return 'Crowdee';
  if (event.actorType === 'anonymous') return 'Anonymous';
  return event.actorName ?? 'Deleted user';
}

/** A short summary of the event's metadata: names, hints and roles, never whole objects. */
function details(event: AuditEvent): string {
  const m = event.metadata ?? {};
  const parts: string[] = [];
  const text = (v: unknown): string | null =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
  const name = text(m.name);
  if (name) parts.push(`“${name}”`);
  // A rename: the organization's name is { from, to }; a key's old name is `from` beside its new `name`.
  const renamed = m.name as { from?: unknown; to?: unknown } | null | undefined;
  if (
    renamed &&
    typeof renamed === 'object' &&
    typeof renamed.from === 'string' &&
    typeof renamed.to === 'string'
  ) {
    parts.push(`“${renamed.from}” → “${renamed.to}”`);
  }
  const hint = text(m.hint);
  if (hint) parts.push(hint);
  const role = text(m.role);
  if (role) parts.push(`role ${role}`);
  const from = text(m.from);
  const to = text(m.to);
  if (from && to) parts.push(`${from} → ${to}`);
  else if (from && event.action === 'key.updated') parts.push(`was “${from}”`);
  const grace = text(m.grace);
  if (grace) parts.push(`grace ${grace}`);
  const via = text(m.via);
  if (via) parts.push(`via ${via}`);
  if (event.action === 'org.key_policy_changed') {
    const policy = m.to as { requireExpiry?: unknown; maxLifetimeDays?: unknown } | undefined;
    if (policy && typeof policy === 'object') {
      parts.push(
        typeof policy.maxLifetimeDays === 'number'
          ? `max ${policy.maxLifetimeDays} days`
          : policy.requireExpiry
            ? 'expiry required'
            : 'no limit',
      );
    }
  }
  return parts.join(' · ');
}

function AuditRow({ event }: { event: AuditEvent }) {
  return (
    <tr>
      <td className="cell-nowrap">
        <time dateTime={event.createdAt} className="cell-stack">
          <span>{formatDateTime(event.createdAt)}</span>
          <span className="cell-sub">{relativeTime(event.createdAt)}</span>
        </time>
      </td>
      <td>{actorLabel(event)}</td>
      <td>
        <span className="cell-stack">
          <span>{ACTION_LABELS[event.action] ?? event.action}</span>
          <code className="cell-sub">{event.action}</code>
        </span>
      </td>
      <td className="cell-details">{details(event) || <span className="muted">—</span>}</td>
      <td>{event.ip ? <code className="ip">{event.ip}</code> : <span className="muted">—</span>}</td>
    </tr>
  );
}
