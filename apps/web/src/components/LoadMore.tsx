import { Button } from './Button.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';

/** The part of a TanStack infinite query result that paging needs. */
interface PagedQuery {
  error: unknown;
  isFetchNextPageError: boolean;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/**
 * The footer of a paged list: how many rows are shown, the failure of the last page (with a retry) and the button
 * that loads the next, older page.
 */
export function LoadMore({
  query,
  count,
  noun,
  end,
}: {
  query: PagedQuery;
  count: number;
  /** Singular and plural, e.g. ['run', 'runs']: "Showing 1 run", "Load older runs". */
  noun: [string, string];
  /** Shown once there is no older page, e.g. "This is the oldest event.". */
  end?: string;
}) {
  const [one, many] = noun;
  return (
    <div className="card-footer pagination">
      <span className="muted">
        Showing {count} {count === 1 ? one : many}
      </span>
      {query.isFetchNextPageError ? (
        <ErrorNotice
          error={query.error}
          compact
          onRetry={() => void query.fetchNextPage()}
          context={`Couldn’t load more ${many}`}
        />
      ) : null}
      {query.hasNextPage ? (
        <Button small onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          {query.isFetchingNextPage ? 'Loading…' : `Load older ${many}`}
        </Button>
      ) : end ? (
        <span className="muted">{end}</span>
      ) : null}
    </div>
  );
}
