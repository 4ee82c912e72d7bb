import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef } from 'react';
import { AccountPage } from '../account/AccountPage.tsx';
import { SecurityPage } from '../account/SecurityPage.tsx';
import { TwoFactorPolicyBanner } from '../account/TwoFactorPolicyBanner.tsx';
import { VerificationBanner } from '../account/VerificationBanner.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { PendingInvitations } from '../invitations/PendingInvitations.tsx';
import { Link } from '../lib/router.tsx';
import { useTRPC } from '../lib/trpc.ts';
import { ApiKeysPage } from '../settings/api-keys/ApiKeysPage.tsx';
import { AuditLogPage } from '../settings/audit/AuditLogPage.tsx';
import { MembersPage } from '../settings/members/MembersPage.tsx';
import { RunsPage } from '../settings/runs/RunsPage.tsx';
import { SessionsPage } from '../settings/sessions/SessionsPage.tsx';
import { LimitsPage } from '../settings/usage/LimitsPage.tsx';
import { UsagePage } from '../settings/usage/UsagePage.tsx';
import { OrgSwitcher } from './OrgSwitcher.tsx';
import { useSession } from './session.tsx';

interface Route {
  path: string;
  label: string;
  render: () => ReactNode;
}

const ROUTES: Route[] = [
  { path: '/settings/api-keys', label: 'API keys', render: () => <ApiKeysPage /> },
  { path: '/settings/members', label: 'Members', render: () => <MembersPage /> },
  { path: '/settings/runs', label: 'Runs', render: () => <RunsPage /> },
  { path: '/settings/usage', label: 'Usage', render: () => <UsagePage /> },
  { path: '/settings/limits', label: 'Limits', render: () => <LimitsPage /> },
  { path: '/settings/sessions', label: 'Sessions', render: () => <SessionsPage /> },
  { path: '/settings/audit-log', label: 'Audit log', render: () => <AuditLogPage /> },
  { path: '/settings/account', label: 'Account', render: () => <AccountPage /> },
  { path: '/settings/security', label: 'Security', render: () => <SecurityPage /> },
];

/** Where an invitation mail's link lands: the pending invitations (shown on every page) are all it needs. */
const INVITATIONS_PATH = '/invitations';

export function AppShell({ path }: { path: string }) {
  const { user } = useSession();
  const trpc = useTRPC();
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      // A full reload drops every cached response (and any secret still in memory) with the session.
      onSuccess: () => window.location.assign('/sign-in'),
    }),
  );
  const route = ROUTES.find((r) => r.path === path.replace(/\/$/, ''));
  const onInvitations = path.replace(/\/$/, '') === INVITATIONS_PATH;
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => {
    document.title = route ? `${route.label} · Crowdee settings` : 'Crowdee settings';
    // After a client-side navigation, move focus to the new page's heading, as a full page load would.
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/settings/api-keys" className="brand">
          <span className="brand-mark" aria-hidden="true">
            C
          </span>
          <span className="brand-name">Crowdee</span>
          <span className="brand-section">Settings</span>
        </Link>
        <div className="topbar-user">
          {/* Served by the API, outside this app: a plain link, a full page load. */}
          <a className="topbar-link" href="/docs/getting-started">
            Getting started
          </a>
          <span className="avatar" aria-hidden="true">
            {initials(user.name)}
          </span>
          <span className="topbar-user-text">
            <span className="topbar-user-name">{user.name}</span>
            <span className="topbar-user-email">{user.email}</span>
          </span>
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => signOut.mutate()}
            disabled={signOut.isPending}
          >
            Sign out
          </button>
        </div>
      </header>
      {signOut.isError ? (
        <div className="topbar-error">
          <ErrorNotice error={signOut.error} compact context="Couldn’t sign out" />
        </div>
      ) : null}
      <div className="layout">
        <aside className="sidebar">
          <OrgSwitcher />
          <nav aria-label="Settings" className="sidebar-nav">
            <ul>
              {ROUTES.map((r) => (
                <li key={r.path}>
                  <Link
                    to={r.path}
                    className="nav-link"
                    aria-current={r.path === route?.path ? 'page' : undefined}
                  >
                    {r.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        </aside>
        <main id="main" ref={mainRef} className="content">
          <VerificationBanner />
          <TwoFactorPolicyBanner />
          <PendingInvitations />
          {route ? (
            route.render()
          ) : onInvitations ? (
            <div className="page">
              <h1 tabIndex={-1}>Invitations</h1>
              <p className="page-description">
                Invitations to your address appear above once it is verified. Nothing happens until you
                accept.
              </p>
            </div>
          ) : (
            <div className="page">
              <h1 tabIndex={-1}>Page not found</h1>
              <p>
                There is nothing at this address. <Link to="/settings/api-keys">Go to API keys</Link>.
              </p>
            </div>
          )}
        </main>
      </div>
    </div>
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => p?.charAt(0).toUpperCase() ?? '').join('') || '?';
}
