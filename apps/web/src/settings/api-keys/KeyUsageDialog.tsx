import { useQuery } from '@tanstack/react-query';
import { Dialog } from '../../components/Dialog.tsx';
import { LoadError, Loading } from '../../components/Status.tsx';
import { totalRequests, UsageChart } from '../../components/UsageChart.tsx';
import { formatDateTime, relativeTime } from '../../lib/format.ts';
import { type ApiKey, useTRPC } from '../../lib/trpc.ts';

/** One of my keys: its requests per day over 30 days by outcome, and the addresses it was last used from. */
export function KeyUsageDialog({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const trpc = useTRPC();
  const usage = useQuery(trpc.usage.key.queryOptions({ id: apiKey.id }));
  return (
    <Dialog title={`Usage of ${apiKey.name}`} onClose={onClose} size="large">
      {usage.isPending ? (
        <Loading label="Loading usage…" />
      ) : usage.isError ? (
        <LoadError error={usage.error} onRetry={() => void usage.refetch()} context="Couldn’t load usage" />
      ) : (
        <div className="form-stack">
          <p className="muted">
            Last 30 days: <strong>{totalRequests(usage.data.totals)}</strong> requests —{' '}
            {usage.data.totals.ok} succeeded, {usage.data.totals.clientError} client errors,{' '}
            {usage.data.totals.rateLimited} rate-limited (429), {usage.data.totals.serverError} server errors.
            Counts are written every few seconds.
          </p>
          <UsageChart
            {...usage.data}
            bucket="day"
            label={`Requests per day by ${apiKey.name} over the last 30 days`}
          />
          <h3 className="card-title">Last IPs</h3>
          {usage.data.recentIps.length === 0 ? (
            <p className="muted">Not used yet.</p>
          ) : (
            <ul className="ip-list" aria-label="Last IPs">
              {usage.data.recentIps.map((r) => (
                <li key={r.ip}>
                  <code>{r.ip}</code>{' '}
                  <time dateTime={r.lastSeenAt} title={formatDateTime(r.lastSeenAt)}>
                    {relativeTime(r.lastSeenAt)}
                  </time>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Dialog>
  );
}
