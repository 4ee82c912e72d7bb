import { RATE_QUOTA_MAX } from '@crowdee/core/rate-limit';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ActiveOrganization } from '../../app/session.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { SelectField, TextAreaField, TextField, WHOLE_NUMBER } from '../../components/Field.tsx';
import { DialogForm, useFormFields } from '../../components/Form.tsx';
import { OrgPage } from '../../components/Page.tsx';
import { Badge, EmptyState, LoadError, Loading } from '../../components/Status.tsx';
import { totalRequests } from '../../components/UsageChart.tsx';
import { formatDate, formatDateTime } from '../../lib/format.ts';
import { type RouterOutputs, useTRPC } from '../../lib/trpc.ts';
import { busiestHour, describeRate, perHour } from './usage-figures.ts';

type LimitRequest = RouterOutputs['limits']['get']['requests'][number];

const DAY_MS = 86_400_000;

const ADMIN_ONLY = 'Only admins and owners can see and request limits.';

export function LimitsPage() {
  return (
    <OrgPage
      title="Limits"
      noun="limits"
      describe={describeLimits}
      adminOnly={ADMIN_ONLY}
      content={OrgLimits}
    />
  );
}

function describeLimits(org: ActiveOrganization): string {
  return `How many requests ${org.name}’s members may make, how close they come, and asking for more.`;
}

function OrgLimits({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
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
      <Card
        title="Current limit"
        description={
          effective ? (
            <>
              <strong data-testid="effective-limit">{describeRate(effective)}</strong> for each member of{' '}
              {org.name}: their sessions and keys share it.
              {base && overrides.length > 0 ? ` The standard limit is ${describeRate(base)}.` : ''}
            </>
          ) : (
            'Rate limiting is off on this server.'
          )
        }
        actions={
          <Button
            variant="primary"
            onClick={() => setAsking(true)}
            disabled={pending !== undefined}
            title={pending ? 'A request is waiting for an operator' : undefined}
          >
            Request a higher limit
          </Button>
        }
      >
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
      </Card>

      <Card title="Limit requests" description="An operator reviews each request; you see the answer here.">
        {requests.length === 0 ? (
          <EmptyState title="No requests yet">
            Need more for a production workload? Request a higher limit and say why.
          </EmptyState>
        ) : (
          <DataTable
            caption="Limit requests"
            columns={['Requested', 'Limit', 'Until', 'Justification', 'Status']}
          >
            {requests.map((r) => (
              <RequestRow key={r.id} request={r} />
            ))}
          </DataTable>
        )}
      </Card>
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
  const form = useFormFields({ quota: '', windowSeconds: '60', justification: '', until: '' }, send.error);
  const submit = () => {
    const { quota, windowSeconds, justification, until } = form.values;
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
  return (
    <Dialog
      title="Request a higher limit"
      description={`For ${org.name}. An operator reviews it; you will see the answer on this page (and by email).`}
      onClose={onClose}
      busy={send.isPending}
    >
      <DialogForm
        onSubmit={submit}
        errorContext="Couldn’t send the request"
        mutation={send}
        onCancel={onClose}
        submit={['Send request', 'Sending…']}
      >
        <div className="form-row">
          <TextField
            label="Quota"
            {...WHOLE_NUMBER}
            min={1}
            max={RATE_QUOTA_MAX}
            {...form.field('quota', localError)}
            data-autofocus
          />
          <SelectField label="Window" {...form.field('windowSeconds')} className="field-narrow">
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
          hint="What the workload is and why it needs more. At least 10 characters."
          {...form.field('justification')}
        />
        <TextField
          label="Until"
          type="date"
          hint="Optional: when the workload ends (at most a year ahead)."
          {...form.field('until')}
          className="field-narrow"
        />
      </DialogForm>
    </Dialog>
  );
}
