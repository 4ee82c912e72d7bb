import { RelativeTime } from '../../components/RelativeTime.tsx';
import { Badge } from '../../components/Status.tsx';
import { formatDate, formatDateTime, relativeTime } from '../../lib/format.ts';
import type { ApiKey, Organization } from '../../lib/trpc.ts';

/** "All organizations" or the names of the ones a key is confined to. */
export function scopeLabel(scope: string[] | null, organizations: Organization[]): string {
  if (scope === null) return 'All organizations';
  const names = scope.map((id) => organizations.find((o) => o.id === id)?.name ?? 'An organization you left');
  return names.join(', ');
}

/** A rotated-out key stays active until its grace period ends: its `revokedAt` is in the future. */
export function pendingRevocation(key: Pick<ApiKey, 'status' | 'revokedAt'>): string | null {
  return key.status === 'active' && key.revokedAt !== null ? key.revokedAt : null;
}

export function StatusBadge({ apiKey }: { apiKey: ApiKey }) {
  const stopsAt = pendingRevocation(apiKey);
  if (stopsAt) {
    return (
      <Badge tone="amber" title={`Replaced by rotation; stops working ${formatDateTime(stopsAt)}`}>
        Rotating · stops {relativeTime(stopsAt)}
      </Badge>
    );
  }
  switch (apiKey.status) {
    case 'active':
      return <Badge tone="green">Active</Badge>;
    case 'expired':
      return <Badge tone="neutral">Expired</Badge>;
    case 'revoked':
      return (
        <Badge
          tone="red"
          title={apiKey.revokedAt ? `Revoked ${formatDateTime(apiKey.revokedAt)}` : undefined}
          wrap={apiKey.revokedReason === 'unused'}
        >
          {revokedLabel(apiKey)}
        </Badge>
      );
  }
}

/** Why a key stopped, when an organization's stale-key policy stopped it. */
export function revokedLabel(apiKey: Pick<ApiKey, 'revokedReason' | 'revokedUnusedDays'>): string {
  return apiKey.revokedReason === 'unused' && apiKey.revokedUnusedDays !== null
    ? `Revoked: unused for ${apiKey.revokedUnusedDays} days`
    : 'Revoked';
}

/**
 * Last use, and a Stale badge when the API says the key is stale (packages/core's rule: not used for 30 days,
 * counting from creation when never used) — the first keys to revoke when cleaning up.
 */
export function LastUsed({ apiKey }: { apiKey: Pick<ApiKey, 'lastUsedAt' | 'stale' | 'status'> }) {
  const showStale = apiKey.status === 'active' && apiKey.stale;
  return (
    <span className="cell-stack">
      {apiKey.lastUsedAt ? (
        <RelativeTime iso={apiKey.lastUsedAt} />
      ) : (
        <span className="muted">Never used</span>
      )}
      {showStale ? (
        <Badge tone="amber" title="Not used for 30 days. Revoke it if nothing needs it.">
          Stale
        </Badge>
      ) : null}
    </span>
  );
}

/** The expiry date, and "Expires soon" when the API flags the key (packages/core's rule: its last 7 days). */
export function Expires({ iso, soon = false }: { iso: string | null; soon?: boolean }) {
  if (iso === null) return <span className="muted">Never</span>;
  const past = new Date(iso).getTime() <= Date.now();
  return (
    <span className="cell-stack">
      <time dateTime={iso} title={formatDateTime(iso)} className="cell-stack">
        <span>{formatDate(iso)}</span>
        <span className="cell-sub">{past ? 'expired' : relativeTime(iso)}</span>
      </time>
      {soon ? (
        <Badge tone="amber" title="Expires within 7 days: rotate it before it stops working.">
          Expires soon
        </Badge>
      ) : null}
    </span>
  );
}

/** What a key may do and where from, under its role: "Only projects:read", "From 2 IP ranges". */
export function Restrictions({ apiKey }: { apiKey: Pick<ApiKey, 'permissions' | 'allowedIps'> }) {
  return (
    <>
      {apiKey.permissions ? (
        <span className="cell-sub" title={apiKey.permissions.join(', ')}>
          Only {apiKey.permissions.join(', ')}
        </span>
      ) : null}
      {apiKey.allowedIps ? (
        <span className="cell-sub" title={apiKey.allowedIps.join(', ')}>
          From{' '}
          {apiKey.allowedIps.length === 1 ? apiKey.allowedIps[0] : `${apiKey.allowedIps.length} IP ranges`}
        </span>
      ) : null}
    </>
  );
}
