import { useEffect, useState } from 'react';
import { describeError, type ErrorKind } from '../lib/errors.ts';
import { Button } from './Button.tsx';

interface ErrorNoticeProps {
  error: unknown;
  /** Offered for failures that may pass (network, server, rate limit). */
  onRetry?: () => void;
  /** What was being done, used as the heading for errors without a more specific one: "Couldn't load API keys". */
  context?: string;
  compact?: boolean;
}

/** A failure that replaces what could not be loaded: what failed, and a retry. */
export interface RetryableError {
  error: unknown;
  onRetry: () => void;
  context: string;
}

/** Kinds whose own heading says more than the context would. */
const SPECIFIC: ReadonlySet<ErrorKind> = new Set(['forbidden', 'rate-limited', 'network', 'server']);

/** One way to show a failed call everywhere: what happened, which role is needed, when to retry. */
export function ErrorNotice({ error, onRetry, context, compact }: ErrorNoticeProps) {
  const info = describeError(error);
  const seconds = useCountdown(info.retryAfterSeconds, error);
  const title = context && !SPECIFIC.has(info.kind) ? context : info.title;
  let message = info.message;
  if (info.kind === 'rate-limited' && info.retryAfterSeconds !== null) {
    message =
      seconds > 0
        ? `Try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`
        : 'You can try again now.';
  }
  return (
    <div className={`notice notice-error${compact ? ' notice-compact' : ''}`} role="alert">
      <svg className="notice-icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
        <circle cx="10" cy="10" r="8.25" fill="none" stroke="currentColor" strokeWidth="1.5" />
        <path d="M10 5.5v5.5" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
        <circle cx="10" cy="14" r="1" fill="currentColor" />
      </svg>
      <div className="notice-content">
        <p className="notice-title">{title}</p>
        <p className="notice-message">{message}</p>
        {onRetry && info.retryable ? (
          <Button small className="notice-action" onClick={onRetry}>
            Try again
          </Button>
        ) : null}
      </div>
    </div>
  );
}

/** Seconds left until `from` seconds after `token` (the error) first appeared; restarts for a new error. */
function useCountdown(from: number | null, token: unknown): number {
  const [state, setState] = useState(() => ({ token, deadline: deadlineOf(from) }));
  const [now, setNow] = useState(() => Date.now());
  if (state.token !== token) {
    setState({ token, deadline: deadlineOf(from) });
    setNow(Date.now());
  }
  const deadline = state.deadline;
  useEffect(() => {
    if (deadline === null) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [deadline]);
  return deadline === null ? 0 : Math.max(0, Math.ceil((deadline - now) / 1000));
}

function deadlineOf(seconds: number | null): number | null {
  return seconds === null ? null : Date.now() + seconds * 1000;
}
