import { useQuery } from '@tanstack/react-query';
import type { ActiveOrganization } from '../../app/session.tsx';
import { Card } from '../../components/Card.tsx';
import { OrgPage } from '../../components/Page.tsx';
import { LoadError, Loading } from '../../components/Status.tsx';
import { totalRequests, UsageChart } from '../../components/UsageChart.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { Link } from '../../lib/router.tsx';
import { useTRPC } from '../../lib/trpc.ts';
import { busiestHour, describeRate, perHour } from './usage-figures.ts';

const ADMIN_ONLY = 'Only admins and owners can see the organization’s usage.';

export function UsagePage() {
  return (
    <OrgPage title="Usage" noun="usage" describe={describeUsage} adminOnly={ADMIN_ONLY} content={OrgUsage} />
  );
}

function describeUsage(org: ActiveOrganization): string {
  return `Requests made in ${org.name} by its members’ keys, sessions and session tokens, per hour and outcome.`;
}

function OrgUsage({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const usage = useQuery(trpc.usage.org.queryOptions({ orgId: org.id }));
  const limits = useQuery(trpc.limits.get.queryOptions({ orgId: org.id }));
  if (usage.isPending || limits.isPending) return <Loading label="Loading usage…" />;
  if (usage.isError)
    return (
      <LoadError error={usage.error} onRetry={() => void usage.refetch()} context="Couldn’t load usage" />
    );
  if (limits.isError)
    return (
      <LoadError error={limits.error} onRetry={() => void limits.refetch()} context="Couldn’t load limits" />
    );
  const { totals } = usage.data;
  const peak = busiestHour(usage.data.hours);
  const limit = limits.data.effective;
  const hourly = limit ? perHour(limit) : null;
  return (
    <Card
      title="Last 30 days"
      description={
        <>
          <strong>{totalRequests(totals).toLocaleString('en')}</strong> requests: {totals.ok} succeeded,{' '}
          {totals.clientError} client errors, {totals.rateLimited} rate-limited (429), {totals.serverError}{' '}
          server errors.
        </>
      }
    >
      <div className="card-body form-stack">
        <UsageChart
          {...usage.data}
          bucket="day"
          label={`Requests per day in ${org.name} over the last 30 days`}
        />
        {limit && hourly ? (
          <div className="usage-against-limit">
            <p>
              Limit: <strong>{describeRate(limit)}</strong> for each member (their sessions and keys share it)
              {limits.data.overrides.length > 0 ? ', raised by an operator' : ''}.{' '}
              <Link to="/settings/limits">Limits</Link>
            </p>
            <label className="meter-label">
              <span>
                Busiest hour
                {peak
                  ? ` (${formatDateTime(peak.hour)}): ${peak.total.toLocaleString('en')} requests`
                  : ': none'}{' '}
                of {hourly.toLocaleString('en')} per hour per member
              </span>
              <meter min={0} max={hourly} value={peak?.total ?? 0} low={hourly * 0.6} high={hourly * 0.85} />
            </label>
          </div>
        ) : (
          <p className="muted">Rate limiting is off on this server.</p>
        )}
      </div>
    </Card>
  );
}
