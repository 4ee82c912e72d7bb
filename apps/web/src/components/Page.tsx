import { can } from '@crowdee/core/permissions';
import type { ComponentType, ReactNode } from 'react';
import { type ActiveOrganization, useSession } from '../app/session.tsx';

/**
 * A settings page: its heading (focused by the router after navigation, hence tabIndex -1) and one line saying
 * what the page is for, then its sections.
 */
export function Page({
  title,
  description,
  children,
}: {
  title: string;
  description: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>{title}</h1>
        <p className="page-description">{description}</p>
      </header>
      {children}
    </div>
  );
}

/**
 * A page about the active organization: without one it says what to do instead; with `adminOnly` set, members
 * below admin see that sentence instead of the content (the API refuses them anyway; this saves a failed request).
 */
export function OrgPage({
  title,
  describe,
  noun,
  adminOnly,
  content: Content,
}: {
  title: string;
  /** The page's line for the active organization. */
  describe: (org: ActiveOrganization) => string;
  /** What the page shows, for the line without an organization: "Create or join an organization to see its …". */
  noun: string;
  adminOnly?: string;
  /** The page's sections, for the active organization. */
  content: ComponentType<{ org: ActiveOrganization }>;
}) {
  const { activeOrg } = useSession();
  return (
    <Page
      title={title}
      description={activeOrg ? describe(activeOrg) : `Create or join an organization to see its ${noun}.`}
    >
      {activeOrg === null ? null : adminOnly && !can(activeOrg.role, 'keys:manage-org') ? (
        <p className="card muted card-body">{adminOnly}</p>
      ) : (
        <Content org={activeOrg} />
      )}
    </Page>
  );
}
