import type { ReactNode } from 'react';
import { ErrorNotice, type RetryableError } from './ErrorNotice.tsx';

/** A polite loading message: screen readers hear it, sighted users see a spinner and the same words. */
export function Loading({ label }: { label: string }) {
  return (
    <output className="loading" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </output>
  );
}

export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="empty-state">
      <p className="empty-state-title">{title}</p>
      {children ? <div className="empty-state-text">{children}</div> : null}
      {action ? <div className="empty-state-action">{action}</div> : null}
    </div>
  );
}

type BadgeTone = 'neutral' | 'green' | 'amber' | 'red' | 'blue' | 'purple';

export function Badge({
  tone = 'neutral',
  children,
  title,
  wrap = false,
}: {
  tone?: BadgeTone;
  children: ReactNode;
  title?: string;
  /** A longer label (a reason) may break over lines instead of overflowing a narrow column. */
  wrap?: boolean;
}) {
  return (
    <span className={`badge badge-${tone}${wrap ? ' badge-wrap' : ''}`} title={title}>
      {children}
    </span>
  );
}

/** A section that failed to load: what failed, why, and a retry. */
export function LoadError({ error, onRetry, context }: RetryableError) {
  return (
    <div className="card-body">
      <ErrorNotice error={error} onRetry={onRetry} context={context} />
    </div>
  );
}
