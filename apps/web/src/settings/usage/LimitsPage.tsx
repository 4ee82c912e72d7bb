import { can } from '@crowdee/core/permissions';
import { RATE_QUOTA_MAX } from '@crowdee/core/rate-limit';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { type ActiveOrganization, useSession } from '../../app/session.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { SelectField, TextAreaField, TextField } from '../../components/Field.tsx';
import { Badge, EmptyState, LoadError, Loading } from '../../components/Status.tsx';
import { totalRequests } from '../../components/UsageChart.tsx';
import { fieldError, formLevelError } from '../../lib/errors.ts';
import { formatDate, formatDateTime } from '../../lib/format.ts';
import { type RouterOutputs, useTRPC } from '../../lib/trpc.ts';
import { busiestHour, describeRate, perHour } from './usage-figures.ts';

type LimitRequest = RouterOutputs['limits']['get']['requests'][number];

const DAY_MS = 86_400_000;

export function LimitsPage() {
  const { activeOrg } = useSession();
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>Limits</h1>
        <p className="page-description">
          {activeOrg
            ? `How many requests ${activeOrg.name}’s members may make, how close they come, and asking for more.`
            : 'Create or join an organization to see its limits.'}
        </p>
      </header>
      {activeOrg ? (
        can(activeOrg.role, 'keys:manage-org') ? (
          <OrgLimits org={activeOrg} />
        ) : (
          <p className="card muted card-body">Only admins and owners can see and request limits.</p>
        )
      ) : null}
    </div>
  );
}

function OrgLimits({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const limitsId = useId();
  const requestsId = useId();
  const [asking, setAsking] = useState(false);
  const limits = useQuery(trpc.limits.get.queryOptions({ orgId: org.id }));
  // Recent usage: the last 24 hours, against the limit.
  const [since] = useState(() => new Date(Date.now() - DAY_MS).toISOString());
  const usage = useQuery(trpc.usage.org.queryOptions({ orgId: org.id, from: since }));
  if (limits.isPending) return <Loading label="Loading limits…" />;
  if (limits.isError)
    return (
      <LoadError error={limits.error} onRetry={() => void limits.refetch()} context="Couldn’t load limits" />
    );
  const { effective, base, overrides, requests } = limits.data;
  const pending = requests.find((r) => r.status === 'pending');
  const peak = usage.data ? busiestHour(usage.data.hours) : null;
  return (
    <>
      <section className="card" aria-labelledby={limitsId}>
        <div className="card-header">
          <div>
            <h2 id={limitsId} className="card-title">
              Current limit
            </h2>
            <p className="card-description">
              {effective ? (
                <>
                  <strong data-testid="effective-limit">{describeRate(effective)}</strong> for each member of{' '}
                  {org.name}: their sessions and keys share it.
                  {base && overrides.length > 0 ? ` The standard limit is ${describeRate(base)}.` : ''}
                </>
              ) : (
                'Rate limiting is off on this server.'
              )}
            </p>
          </div>
          <button
            type="button"
            className="button button-primary"
            onClick={() => setAsking(true)}
            disabled={pending !== undefined}
            title={pending ? 'A request is waiting for an operator' : undefined}
          >
            Request a higher limit
          </button>
        </div>
        <div className="card-body form-stack">
          {overrides.length > 0 ? (
            <ul className="plain-list">
              {overrides.map((o) => (
                <li key={o.id}>
                  Raised to {describeRate(o)}
                  {o.expiresAt ? ` until ${formatDate(o.expiresAt)}` : ''} — {o.reason}
                </li>
              ))}
            </ul>
          ) : null}
          {usage.data && effective ? (
            <label className="meter-label">
              <span>
                Last 24 hours: {totalRequests(usage.data.totals).toLocaleString('en')} requests,{' '}
                {usage.data.totals.rateLimited} refused (429). Busiest hour:{' '}
                {peak ? peak.total.toLocaleString('en') : 0} of {perHour(effective).toLocaleString('en')} per
                hour per member.
              </span>
              <meter
                min={0}
                max={perHour(effective)}
                value={peak?.total ?? 0}
                low={perHour(effective) * 0.6}
                high={perHour(effective) * 0.85}
              />
            </label>
          ) : null}
        </div>
      </section>

      <section className="card" aria-labelledby={requestsId}>
        <div className="card-header">
          <div>
            <h2 id={requestsId} className="card-title">
              Limit requests
            </h2>
            <p className="card-description">An operator reviews each request; you see the answer here.</p>
          </div>
        </div>
        {requests.length === 0 ? (
          <EmptyState title="No requests yet">
            Need more for a production workload? Request a higher limit and say why.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Limit requests</caption>
              <thead>
                <tr>
                  <th scope="col">Requested</th>
                  <th scope="col">Limit</th>
                  <th scope="col">Until</th>
                  <th scope="col">Justification</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {requests.map((r) => (
                  <RequestRow key={r.id} request={r} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {asking ? <RequestLimitDialog org={org} onClose={() => setAsking(false)} /> : null}
    </>
  );
}

function RequestRow({ request: r }: { request: LimitRequest }) {
  const tone = r.status === 'approved' ? 'green' : r.status === 'denied' ? 'red' : 'amber';
  const label = r.status === 'approved' ? 'Approved' : r.status === 'denied' ? 'Denied' : 'Pending';
  return (
    <tr>
      <td>
        <time dateTime={r.createdAt} title={formatDateTime(r.createdAt)}>
          {formatDate(r.createdAt)}
        </time>
        {r.requestedBy ? <span className="cell-sub"> by {r.requestedBy.name}</span> : null}
      </td>
      <td>{describeRate(r)}</td>
      <td>{r.until ? formatDate(r.until) : 'No end'}</td>
      <td className="cell-wrap">{r.justification}</td>
      <td>
        <span className="cell-stack">
          <Badge tone={tone}>{label}</Badge>
          {r.decisionNote ? <span className="cell-sub">{r.decisionNote}</span> : null}
        </span>
      </td>
    </tr>
  );
}

const WINDOWS = [
  { seconds: 1, label: 'per second' },
  { seconds: 60, label: 'per minute' },
  { seconds: 3600, label: 'per hour' },
];

function RequestLimitDialog({ org, onClose }: { org: ActiveOrganization; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [quota, setQuota] = useState('');
  const [windowSeconds, setWindowSeconds] = useState('60');
  const [justification, setJustification] = useState('');
  const [until, setUntil] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const send = useMutation(
    trpc.limits.request.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.limits.pathFilter()),
          queryClient.invalidateQueries(trpc.audit.pathFilter()),
        ]);
        onClose();
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const q = Number(quota);
    if (!Number.isInteger(q) || q < 1 || q > RATE_QUOTA_MAX) {
      setLocalError(`Enter a whole number from 1 to ${RATE_QUOTA_MAX.toLocaleString('en')}.`);
      return;
    }
    setLocalError(null);
    send.mutate({
      orgId: org.id,
      quota: q,
      windowSeconds: Number(windowSeconds),
      justification,
      // The end of the chosen day, in the requester's time zone.
      until: until ? new Date(`${until}T23:59:59`).toISOString() : null,
    });
  };
  const formError = formLevelError(send.error);
  return (
    <Dialog
      title="Request a higher limit"
      description={`For ${org.name}. An operator reviews it; you will see the answer on this page (and by email).`}
      onClose={onClose}
      busy={send.isPending}
    >
      <form className="form-stack" onSubmit={submit} noValidate>
        <div className="form-row">
          <TextField
            label="Quota"
            type="number"
            inputMode="numeric"
            min={1}
            max={RATE_QUOTA_MAX}
            value={quota}
            onChange={(e) => setQuota(e.target.value)}
            error={localError ?? fieldError(send.error, 'quota')}
            data-autofocus
            className="field-narrow"
          />
          <SelectField
            label="Window"
            value={windowSeconds}
            onChange={(e) => setWindowSeconds(e.target.value)}
            className="field-narrow"
          >
            {WINDOWS.map((w) => (
              <option key={w.seconds} value={w.seconds}>
                {w.label}
              </option>
            ))}
          </SelectField>
        </div>
        <TextAreaField
          label="Justification"
          rows={4}
          maxLength={1000}
          value={justification}
          onChange={(e) => setJustification(e.target.value)}
          hint="What the workload is and why it needs more. At least 10 characters."
          error={fieldError(send.error, 'justification')}
        />
        <TextField
          label="Until"
          type="date"
          value={until}
          onChange={(e) => setUntil(e.target.value)}
          hint="Optional: when the workload ends (at most a year ahead)."
          error={fieldError(send.error, 'until')}
          className="field-narrow"
        />
        {formError ? <ErrorNotice error={formError} compact context="Couldn’t send the request" /> : null}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={send.isPending}>
            {send.isPending ? 'Sending…' : 'Send request'}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={onClose}
            disabled={send.isPending}
          >
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
