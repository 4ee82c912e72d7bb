import { can } from '@crowdee/core/permissions';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ActiveOrganization } from '../../app/session.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { LoadMore } from '../../components/LoadMore.tsx';
import { OrgPage } from '../../components/Page.tsx';
import { QuerySection } from '../../components/QuerySection.tsx';
import { formatDateTime, relativeTime } from '../../lib/format.ts';
import { type AuditEvent, type RouterInputs, useTRPC } from '../../lib/trpc.ts';

const PAGE_SIZE = 20;

/** Plain-language names for the API's audit actions; an action added later still shows, under its code. */
const ACTION_LABELS: Record<string, string> = {
  'auth.sign_up': 'Signed up',
  'auth.sign_in': 'Signed in',
  'auth.sign_in_failed': 'Failed sign-in',
  'auth.sign_out': 'Signed out',
  'session_token.created': 'Session token created',
  'session_token.refreshed': 'Session token refreshed',
  'session_token.revoked': 'Session token revoked',
  'session.revoked': 'Session signed out',
  'org.created': 'Organization created',
  'org.updated': 'Organization renamed',
  'org.deleted': 'Organization deleted',
  'org.key_policy_changed': 'Key policy changed',
  'org.two_factor_policy_changed': 'Two-factor policy changed',
  'member.added': 'Member added',
  'member.role_changed': 'Member role changed',
  'member.removed': 'Member removed',
  'member.left': 'Member left',
  'key.created': 'API key created',
  'key.updated': 'API key renamed',
  'key.rotated': 'API key rotated',
  'key.revoked': 'API key revoked',
  'key.allowed_ips_changed': 'API key allowed IPs changed',
  'key.cut_off': 'API key cut off',
  'invitation.created': 'Invitation sent',
  'invitation.accepted': 'Invitation accepted',
  'invitation.declined': 'Invitation declined',
  'invitation.cancelled': 'Invitation cancelled',
  'invitation.expired': 'Invitation expired',
  'project.created': 'Project created',
  'project.updated': 'Project updated',
  'project.deleted': 'Project deleted',
  'run.started': 'Verification run started',
  'run.cancelled': 'Verification run cancelled',
};

export function AuditLogPage() {
  return <OrgPage title="Audit log" noun="audit log" describe={describeAuditLog} content={AuditLog} />;
}

function describeAuditLog(org: ActiveOrganization): string {
  return `Who did what in ${org.name}: sign-ins, membership changes, key activity. Newest first.`;
}

type AuditFilters = Omit<RouterInputs['audit']['list'], 'orgId' | 'limit' | 'cursor'>;
type EventType = NonNullable<AuditFilters['actions']>[number];

/** The actor select's value: nobody in particular, a member, a key, or a kind of actor. */
function actorFilters(actor: string): AuditFilters {
  const [kind, id] = actor.split(':');
  if (kind === 'user' && id) return { actorUserId: id };
  if (kind === 'key' && id) return { actorKeyId: id };
  if (kind === 'type' && (id === 'system' || id === 'key' || id === 'session-token' || id === 'anonymous'))
    return { actorType: id };
  return {};
}

/** A `<input type="date">` value (the reader's local day) as the instant that day starts, or ends. */
function dayBoundary(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number);
  const at = new Date(y ?? 0, (m ?? 1) - 1, (d ?? 1) + (end ? 1 : 0));
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

function download(filename: string, contentType: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: contentType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

function AuditLog({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [actor, setActor] = useState('');
  const [eventType, setEventType] = useState('');
  const [fromDay, setFromDay] = useState('');
  const [toDay, setToDay] = useState('');
  const from = dayBoundary(fromDay, false);
  const to = dayBoundary(toDay, true);
  const rangeError = from && to && from > to ? 'The “to” day is before the “from” day.' : null;
  const filters: AuditFilters = {
    ...actorFilters(actor),
    ...(eventType ? { actions: [eventType as EventType] } : {}),
    ...(from ? { from } : {}),
    ...(to && !rangeError ? { to } : {}),
  };
  const filtered = actor !== '' || eventType !== '' || fromDay !== '' || toDay !== '';
  // The actor choices are only worth loading for those who may read the log (the log itself says who may).
  const reader = can(org.role, 'audit:read');
  const members = useQuery(trpc.members.list.queryOptions({ orgId: org.id }, { enabled: reader }));
  const keys = useQuery(
    trpc.keys.listForOrg.queryOptions({ orgId: org.id }, { enabled: can(org.role, 'keys:manage-org') }),
  );
  // The API decides who may read the log; a 403 tells the reader which role it takes.
  const log = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { orgId: org.id, limit: PAGE_SIZE, ...filters },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const events = log.data?.pages.flatMap((p) => p.items) ?? [];
  const exporter = useMutation({
    mutationFn: (format: 'jsonl' | 'csv') =>
      queryClient.fetchQuery(trpc.audit.export.queryOptions({ orgId: org.id, format, ...filters })),
    onSuccess: (out) => download(out.filename, out.contentType, out.content),
  });

  // Keys that can act here, and any key seen on the loaded pages (a revoked key still has its history).
  const keyOptions = new Map<string, string>();
  for (const k of keys.data ?? []) keyOptions.set(k.id, `${k.name} (${k.hint})`);
  for (const e of events)
    if (e.actorKey) keyOptions.set(e.actorKey.id, `${e.actorKey.name ?? 'key'} (${e.actorKey.hint ?? '…'})`);

  return (
    <Card
      title="Events"
      actions={
        <div className="row-actions">
          <Button small onClick={() => exporter.mutate('csv')} disabled={exporter.isPending || !!rangeError}>
            Export CSV
          </Button>
          <Button
            small
            onClick={() => exporter.mutate('jsonl')}
            disabled={exporter.isPending || !!rangeError}
          >
            Export JSONL
          </Button>
        </div>
      }
    >
      <form
        className="card-body audit-filters"
        aria-label="Filter events"
        onSubmit={(e) => e.preventDefault()}
      >
        <SelectField label="Actor" value={actor} onChange={(e) => setActor(e.target.value)}>
          <option value="">Anyone</option>
          <optgroup label="Members">
            {(members.data ?? []).map((m) => (
              <option key={m.userId} value={`user:${m.userId}`}>
                {m.name}
              </option>
            ))}
          </optgroup>
          <optgroup label="API keys">
            {[...keyOptions].map(([id, label]) => (
              <option key={id} value={`key:${id}`}>
                {label}
              </option>
            ))}
          </optgroup>
          <optgroup label="Kinds">
            <option value="type:key">Any API key</option>
            <option value="type:session-token">Any session token</option>
            <option value="type:system">Crowdee (automatic)</option>
            <option value="type:anonymous">Anonymous</option>
          </optgroup>
        </SelectField>
        <SelectField label="Event" value={eventType} onChange={(e) => setEventType(e.target.value)}>
          <option value="">Any event</option>
          {Object.entries(ACTION_LABELS).map(([action, label]) => (
            <option key={action} value={action}>
              {label}
            </option>
          ))}
        </SelectField>
        <TextField label="From" type="date" value={fromDay} onChange={(e) => setFromDay(e.target.value)} />
        <TextField
          label="To"
          type="date"
          value={toDay}
          onChange={(e) => setToDay(e.target.value)}
          error={rangeError}
        />
        {filtered ? (
          <Button
            small
            className="audit-filters-clear"
            onClick={() => {
              setActor('');
              setEventType('');
              setFromDay('');
              setToDay('');
            }}
          >
            Clear filters
          </Button>
        ) : null}
      </form>
      {exporter.error ? (
        <ErrorNotice error={exporter.error} compact context="Couldn’t export the audit log" />
      ) : exporter.data?.nextCursor ? (
        <p className="card-body muted">
          Exported the newest {exporter.data.count} matching events; narrow the dates to export the rest.
        </p>
      ) : null}
      <QuerySection
        query={log}
        items={events}
        loading="Loading the audit log…"
        errorContext="Couldn’t load the audit log"
        empty={filtered ? 'No events match these filters' : 'No events yet'}
        keepItemsOnError
      >
        {(shown) => (
          <>
            <DataTable
              caption={`Audit log of ${org.name}`}
              columns={['Time', 'Actor', 'Event', 'Details', 'IP address']}
            >
              {shown.map((event) => (
                <AuditRow key={event.id} event={event} />
              ))}
            </DataTable>
            <LoadMore
              query={log}
              count={events.length}
              noun={['event', 'events']}
              end="This is the oldest event."
            />
          </>
        )}
      </QuerySection>
    </Card>
  );
}

/** Who acted: the person, and under them the key or session token they acted with, by name and hint. */
function Actor({ event }: { event: AuditEvent }) {
  const credential = event.actorKey
    ? { kind: 'key', name: event.actorKey.name, hint: event.actorKey.hint }
    : event.actorToken
      ? { kind: 'session token', name: event.actorToken.audience, hint: event.actorToken.hint }
      : null;
  if (!credential) {
    if (event.actorType === 'system') return <span>Crowdee (automatic)</span>;
    if (event.actorType === 'anonymous') return <span>Anonymous</span>;
    return <span>{event.actorName ?? (event.actorUserId ? 'Deleted user' : event.actorLabel)}</span>;
  }
  return (
    <span className="cell-stack" title={event.actorLabel}>
      <span>{event.actorName ?? 'Deleted user'}</span>
      <span className="cell-sub">
        {credential.kind} {credential.name ? `“${credential.name}”` : null}{' '}
        {credential.hint ? <code className="key-hint">{credential.hint}</code> : null}
      </span>
    </span>
  );
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
  if (m.reason === 'unused' && typeof m.unusedDays === 'number')
    parts.push(`unused for ${m.unusedDays} days`);
  else if (via) parts.push(`via ${via}`);
  if (event.action === 'org.two_factor_policy_changed') {
    const required = (m.required as { to?: unknown } | undefined)?.to;
    if (typeof required === 'boolean')
      parts.push(required ? 'members must use two-factor sign-in' : 'two-factor sign-in optional');
  }
  if (event.action === 'org.key_policy_changed') {
    const policy = m.to as
      | { requireExpiry?: unknown; maxLifetimeDays?: unknown; revokeUnusedAfterDays?: unknown }
      | undefined;
    if (policy && typeof policy === 'object') {
      parts.push(
        typeof policy.maxLifetimeDays === 'number'
          ? `max ${policy.maxLifetimeDays} days`
          : policy.requireExpiry
            ? 'expiry required'
            : 'no limit',
      );
      if (typeof policy.revokeUnusedAfterDays === 'number')
        parts.push(`revoke unused after ${policy.revokeUnusedAfterDays} days`);
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
      <td>
        <Actor event={event} />
      </td>
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
