import { type ReactNode, useId } from 'react';
import { ActionStatus } from './Status.tsx';

/**
 * A settings card: a region named by its heading (tests and screen readers find it by that name), an optional
 * description under the heading, actions beside it, then the body.
 */
export function Card({
  title,
  description,
  actions,
  label,
  danger = false,
  status = null,
  children,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  /** Names the region instead of the heading, where the heading varies (e.g. holds the organization's name). */
  label?: string;
  danger?: boolean;
  /** What the card's last action did ("Passkey removed."), read out politely under the header. */
  status?: string | null;
  children?: ReactNode;
}) {
  const headingId = useId();
  return (
    <section
      className={danger ? 'card card-danger' : 'card'}
      aria-labelledby={label ? undefined : headingId}
      aria-label={label}
    >
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            {title}
          </h2>
          {description ? <p className="card-description">{description}</p> : null}
        </div>
        {actions}
      </div>
      <ActionStatus message={status} inCard />
      {children}
    </section>
  );
}
