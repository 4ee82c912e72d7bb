import { type ReactNode, useEffect } from 'react';
import { BrandMark } from '../components/BrandMark.tsx';

/** The signed-out frame: the brand above one card, and the tab's title. */
export function AuthLayout({
  title,
  footer,
  children,
}: {
  /** The tab's title, before " · Crowdee". */
  title: string;
  footer?: ReactNode;
  children: ReactNode;
}) {
  useEffect(() => {
    document.title = `${title} · Crowdee`;
  }, [title]);
  return (
    <div className="auth">
      <main className="auth-card">
        <div className="auth-brand">
          <BrandMark />
          <span className="brand-name">Crowdee</span>
        </div>
        {children}
      </main>
      {footer ? <footer className="auth-footnote">{footer}</footer> : null}
    </div>
  );
}

/** The card's heading: focusable so navigation can move focus to it. */
export function AuthTitle({ children }: { children: ReactNode }) {
  return (
    <h1 className="auth-title" tabIndex={-1}>
      {children}
    </h1>
  );
}

/** Another way to go on, under the card's form and a divider: "or" Sign in with a passkey. */
export function AuthAlternative({ children }: { children: ReactNode }) {
  return (
    <div className="auth-alternative">
      <p className="auth-divider" aria-hidden="true">
        or
      </p>
      {children}
    </div>
  );
}
