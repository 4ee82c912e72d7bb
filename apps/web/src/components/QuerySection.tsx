import type { ReactNode } from 'react';
import { EmptyState, LoadError, Loading } from './Status.tsx';

/** The part of a TanStack query result a section needs (plain and infinite queries both have it). */
export interface QueryState {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

interface QuerySectionProps<T> {
  query: QueryState;
  /** What the section lists once loaded: the query's data, or rows derived from it. */
  items: readonly T[] | undefined;
  /** Read out while loading, e.g. "Loading sessions…". */
  loading: string;
  /** What failed, above the error and its retry, e.g. "Couldn’t load sessions". */
  errorContext: string;
  /** Shown when there is nothing to list: a title, or a whole EmptyState with text and an action. */
  empty: string | ReactNode;
  /**
   * A paginated list that already shows rows keeps them when a later page fails (the page shows that error
   * beside its "load more"); only a failure with nothing to show replaces the list.
   */
  keepItemsOnError?: boolean;
  children: (items: readonly T[]) => ReactNode;
}

/**
 * The one loading → error → empty → content block every settings list goes through, so each page states only what
 * differs (its words and its table) and they all fail, retry and read out the same way.
 */
export function QuerySection<T>({
  query,
  items,
  loading,
  errorContext,
  empty,
  keepItemsOnError = false,
  children,
}: QuerySectionProps<T>) {
  if (query.isPending) return <Loading label={loading} />;
  const shown = items ?? [];
  if (query.isError && !(keepItemsOnError && shown.length > 0)) {
    return <LoadError error={query.error} onRetry={() => void query.refetch()} context={errorContext} />;
  }
  if (shown.length === 0) return typeof empty === 'string' ? <EmptyState title={empty} /> : empty;
  return children(shown);
}
