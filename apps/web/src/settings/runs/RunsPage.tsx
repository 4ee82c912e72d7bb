import { useInfiniteQuery } from '@tanstack/react-query';
import type { ActiveOrganization } from '../../app/session.tsx';
import { Card } from '../../components/Card.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { LoadMore } from '../../components/LoadMore.tsx';
import { OrgPage } from '../../components/Page.tsx';
import { QuerySection } from '../../components/QuerySection.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { Badge, EmptyState } from '../../components/Status.tsx';
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
  return <OrgPage title="Runs" noun="verification runs" describe={describeRuns} content={RunList} />;
}

function describeRuns(org: ActiveOrganization): string {
  return `Verification runs over ${org.name}’s datasets, newest first: status, progress and verdicts.`;
}

function RunList({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
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
    <Card
      title="Recent runs"
      description={
        <>
          Start runs with the API or the CLI: <code>crowdee runs start --dataset ID --wait</code>
        </>
      }
    >
      <QuerySection
        query={runs}
        items={items}
        loading="Loading runs…"
        errorContext="Couldn’t load runs"
        empty={
          <EmptyState title="No runs yet">
            Runs appear here when a script or the CLI starts one over a dataset of this organization.
          </EmptyState>
        }
        keepItemsOnError
      >
        {(shown) => (
          <>
            <DataTable
              caption={`Verification runs of ${org.name}`}
              columns={['Dataset', 'Status', 'Progress', 'Verdicts', 'Started', 'Finished']}
            >
              {shown.map((run) => (
                <RunRow key={run.id} run={run} />
              ))}
            </DataTable>
            <LoadMore query={runs} count={items.length} noun={['run', 'runs']} />
          </>
        )}
      </QuerySection>
    </Card>
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
