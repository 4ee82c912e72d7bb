import { useInfiniteQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { type ActiveOrganization, useSession } from '../../app/session.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { Badge, EmptyState, LoadError, Loading } from '../../components/Status.tsx';
import { type OrgRun, useTRPC } from '../../lib/trpc.ts';

const PAGE_SIZE = 20;
/** While a run on the page is queued or running, the list refreshes this often (the API's polling hint). */
const REFRESH_MS = 3000;

const STATUS: Record<
  OrgRun['status'],
  { label: string; tone: 'neutral' | 'blue' | 'green' | 'red' | 'amber' }
> = {
  queued: { label: 'Queued', tone: 'neutral' },
  running: { label: 'Running', tone: 'blue' },
  succeeded: { label: 'Succeeded', tone: 'green' },
  failed: { label: 'Failed', tone: 'red' },
  cancelled: { label: 'Cancelled', tone: 'amber' },
};

const active = (run: OrgRun) => run.status === 'queued' || run.status === 'running';

/** Read-only: runs are started and cancelled by scripts and the CLI; people watch them here. */
export function RunsPage() {
  const { activeOrg } = useSession();
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>Runs</h1>
        <p className="page-description">
          {activeOrg
            ? `Verification runs over ${activeOrg.name}’s datasets, newest first: status, progress and verdicts.`
            : 'Create or join an organization to see its verification runs.'}
        </p>
      </header>
      {activeOrg ? <RunList org={activeOrg} /> : null}
    </div>
  );
}

function RunList({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const headingId = useId();
  const runs = useInfiniteQuery({
    ...trpc.runs.listForOrg.infiniteQueryOptions(
      { orgId: org.id, limit: PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some(active)) ? REFRESH_MS : false,
  });
  const items = runs.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            Recent runs
          </h2>
          <p className="card-description">
            Start runs with the API or the CLI: <code>crowdee runs start --dataset ID --wait</code>
          </p>
        </div>
      </div>
      {runs.isPending ? (
        <Loading label="Loading runs…" />
      ) : runs.isError && items.length === 0 ? (
        <LoadError error={runs.error} onRetry={() => void runs.refetch()} context="Couldn’t load runs" />
      ) : items.length === 0 ? (
        <EmptyState title="No runs yet">
          Runs appear here when a script or the CLI starts one over a dataset of this organization.
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Verification runs of {org.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Dataset</th>
                  <th scope="col">Status</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Verdicts</th>
                  <th scope="col">Started</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {items.map((run) => (
                  <RunRow key={run.id} run={run} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="card-footer pagination">
            <span className="muted">
              Showing {items.length} {items.length === 1 ? 'run' : 'runs'}
            </span>
            {runs.isFetchNextPageError ? (
              <ErrorNotice
                error={runs.error}
                compact
                onRetry={() => void runs.fetchNextPage()}
                context="Couldn’t load more runs"
              />
            ) : null}
            {runs.hasNextPage ? (
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => void runs.fetchNextPage()}
                disabled={runs.isFetchingNextPage}
              >
                {runs.isFetchingNextPage ? 'Loading…' : 'Load older runs'}
              </button>
            ) : null}
          </div>
        </>
      )}
    </section>
  );
}

function RunRow({ run }: { run: OrgRun }) {
  const status = STATUS[run.status];
  const label = `${run.processed.toLocaleString()} of ${run.total.toLocaleString()} items`;
  return (
    <tr>
      <td>
        <span className="cell-stack">
          <span>{run.datasetName}</span>
          <code className="cell-sub">{run.id}</code>
        </span>
      </td>
      <td>
        <Badge tone={status.tone}>{status.label}</Badge>
      </td>
      <td className="cell-nowrap">
        <span className="cell-stack">
          <progress max={Math.max(run.total, 1)} value={run.processed} aria-label={`Progress: ${label}`} />
          <span className="cell-sub">{label}</span>
        </span>
      </td>
      <td className="cell-nowrap">
        <span>
          <Badge tone="green" title="Passed">
            {run.counts.pass.toLocaleString()} pass
          </Badge>{' '}
          <Badge tone="amber" title="Flagged for a look">
            {run.counts.flag.toLocaleString()} flag
          </Badge>{' '}
          <Badge tone="red" title="Failed">
            {run.counts.fail.toLocaleString()} fail
          </Badge>
        </span>
      </td>
      <td className="cell-nowrap">
        {run.startedAt ? <RelativeTime iso={run.startedAt} /> : <span className="muted">—</span>}
      </td>
      <td className="cell-nowrap">
        {run.finishedAt ? <RelativeTime iso={run.finishedAt} /> : <span className="muted">—</span>}
      </td>
    </tr>
  );
}
