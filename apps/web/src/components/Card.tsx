import { type ReactNode, useId } from 'react';

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
  children,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  /** Names the region instead of the heading, where the heading varies (e.g. holds the organization's name). */
  label?: string;
  danger?: boolean;
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
      {children}
    </section>
  );
}
