import { type ReactNode, useState } from 'react';
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

/**
 * The polite line that says what an action just did ("Passkey removed."). `inCard` pads it as a card's body.
 * `reserve` keeps the empty live region in the page, for a line inside a region that is always shown, so the
 * first message is announced too; otherwise the line appears only with a message.
 */
export function ActionStatus({
  message,
  inCard = false,
  reserve = false,
}: {
  message: string | null;
  inCard?: boolean;
  reserve?: boolean;
}) {
  if (!message && !reserve) return null;
  return (
    <output className={inCard ? 'card-body form-status' : 'form-status'} aria-live="polite">
      {message ?? ''}
    </output>
  );
}

/**
 * A card's open dialog and its ActionStatus line: opening a dialog clears the last line; `finish` refreshes the
 * card's data before it says what happened and closes the dialog, so the line never speaks of rows not yet shown.
 */
export function useDialogStatus<D>(refresh: () => Promise<unknown>) {
  const [dialog, setDialog] = useState<D | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return {
    dialog,
    done,
    open: (next: D) => {
      setDone(null);
      setDialog(next);
    },
    close: () => setDialog(null),
    finish: async (message: string) => {
      await refresh();
      setDone(message);
      setDialog(null);
    },
  };
}
