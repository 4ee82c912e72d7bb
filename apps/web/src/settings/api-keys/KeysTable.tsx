import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { useSession } from '../../app/session.tsx';
import { Button } from '../../components/Button.tsx';
import { ACTIONS_COLUMN, DataTable } from '../../components/DataTable.tsx';
import { Badge } from '../../components/Status.tsx';
import { Sparkline } from '../../components/UsageChart.tsx';
import { formatDate, formatDateTime, roleLabel } from '../../lib/format.ts';
import { type ApiKey, useTRPC } from '../../lib/trpc.ts';
import {
  Expires,
  LastUsed,
  pendingRevocation,
  Restrictions,
  StatusBadge,
  scopeLabel,
} from './key-display.tsx';

interface KeysTableProps {
  keys: ApiKey[];
  onRotate: (key: ApiKey) => void;
  onRevoke: (key: ApiKey) => void;
  onEditAllowedIps: (key: ApiKey) => void;
  onUsage: (key: ApiKey) => void;
  caption: string;
}

/** My keys. The table only ever shows a key's hint: the full key exists in the browser once, in the reveal panel. */
export function KeysTable({ keys, onRotate, onRevoke, onEditAllowedIps, onUsage, caption }: KeysTableProps) {
  const { organizations } = useSession();
  const trpc = useTRPC();
  const sparklines = useQuery(trpc.usage.sparklines.queryOptions());
  const days = new Map((sparklines.data ?? []).map((s) => [s.keyId, s.days]));
  return (
    <DataTable
      caption={caption}
      columns={[
        'Name',
        'Key',
        'Role',
        'Organizations',
        'Created',
        'Last used',
        'Expires',
        'Status',
        ACTIONS_COLUMN,
      ]}
    >
      {keys.map((key) => (
        <KeyRow
          key={key.id}
          apiKey={key}
          scope={scopeLabel(key.scope, organizations)}
          days={days.get(key.id) ?? null}
          onRotate={onRotate}
          onRevoke={onRevoke}
          onEditAllowedIps={onEditAllowedIps}
          onUsage={onUsage}
        />
      ))}
    </DataTable>
  );
}

function KeyRow({
  apiKey,
  scope,
  days,
  onRotate,
  onRevoke,
  onEditAllowedIps,
  onUsage,
}: {
  apiKey: ApiKey;
  scope: string;
  /** Requests per day over the last 7 days; null = none at all (or not loaded yet). */
  days: number[] | null;
  onRotate: (key: ApiKey) => void;
  onRevoke: (key: ApiKey) => void;
  onEditAllowedIps: (key: ApiKey) => void;
  onUsage: (key: ApiKey) => void;
}) {
  const nameId = useId();
  const active = apiKey.status === 'active';
  const rotating = pendingRevocation(apiKey) !== null;
  return (
    <tr className={active ? undefined : 'row-inactive'}>
      <th scope="row" id={nameId} className="cell-name">
        {apiKey.name}
      </th>
      <td>
        <code className="key-hint">{apiKey.hint}</code>
      </td>
      <td>
        <span className="cell-stack">
          <Badge tone="blue">{roleLabel(apiKey.role)}</Badge>
          <Restrictions apiKey={apiKey} />
        </span>
      </td>
      <td className="cell-scope">
        <span className="cell-stack">
          <span>{scope}</span>
          {apiKey.cutOffs.map((cut) => (
            <span key={cut.orgId} className="cell-sub">
              {cut.reason === 'unused' && cut.unusedDays !== null
                ? `Cut off by ${cut.orgName}: unused there for ${cut.unusedDays} days`
                : `Cut off by ${cut.orgName}`}{' '}
              <time dateTime={cut.at} title={formatDateTime(cut.at)}>
                {formatDate(cut.at)}
              </time>
            </span>
          ))}
          {apiKey.blockedByTwoFactorPolicy.map((stop) => (
            <span key={`2fa-${stop.orgId}`} className="cell-sub">
              <Badge tone="amber" wrap>
                Two-factor required
              </Badge>{' '}
              Refused in {stop.orgName} until you set up two-factor sign-in
            </span>
          ))}
        </span>
      </td>
      <td>
        <time dateTime={apiKey.createdAt} title={formatDateTime(apiKey.createdAt)}>
          {formatDate(apiKey.createdAt)}
        </time>
      </td>
      <td>
        {/* The last 7 days under "last used": no extra column; the row's Usage action opens the details. */}
        <span className="cell-stack">
          <LastUsed apiKey={apiKey} />
          <Sparkline
            days={days ?? [0, 0, 0, 0, 0, 0, 0]}
            label={`${(days ?? []).reduce((a, b) => a + b, 0)} requests in the last 7 days`}
          />
        </span>
      </td>
      <td>
        <Expires iso={apiKey.expiresAt} soon={apiKey.expiresSoon} />
      </td>
      <td>
        <StatusBadge apiKey={apiKey} />
      </td>
      <td className="cell-actions">
        {/* Rotate · Revoke in one row, then Allowed IPs and Usage each across both: the sticky column stays as
            narrow as two buttons. */}
        <div className="row-actions row-actions-grid">
          {active && !rotating ? (
            <Button small aria-describedby={nameId} onClick={() => onRotate(apiKey)}>
              Rotate
            </Button>
          ) : null}
          {active ? (
            <>
              <Button
                variant="danger-quiet"
                small
                wide={rotating}
                aria-describedby={nameId}
                onClick={() => onRevoke(apiKey)}
              >
                Revoke
              </Button>
              <Button small wide aria-describedby={nameId} onClick={() => onEditAllowedIps(apiKey)}>
                Allowed IPs
              </Button>
            </>
          ) : null}
          <Button small wide aria-describedby={nameId} onClick={() => onUsage(apiKey)}>
            Usage
          </Button>
        </div>
      </td>
    </tr>
  );
}
