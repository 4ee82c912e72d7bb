import { useId } from 'react';
import { useSession } from '../../app/session.tsx';
import { ACTIONS_COLUMN, DataTable } from '../../components/DataTable.tsx';
import { Badge } from '../../components/Status.tsx';
import { formatDate, formatDateTime, roleLabel } from '../../lib/format.ts';
import type { ApiKey } from '../../lib/trpc.ts';
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
  caption: string;
}

/** My keys. The table only ever shows a key's hint: the full key exists in the browser once, in the reveal panel. */
export function KeysTable({ keys, onRotate, onRevoke, onEditAllowedIps, caption }: KeysTableProps) {
  const { organizations } = useSession();
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
          onRotate={onRotate}
          onRevoke={onRevoke}
          onEditAllowedIps={onEditAllowedIps}
        />
      ))}
    </DataTable>
  );
}

function KeyRow({
  apiKey,
  scope,
  onRotate,
  onRevoke,
  onEditAllowedIps,
}: {
  apiKey: ApiKey;
  scope: string;
  onRotate: (key: ApiKey) => void;
  onRevoke: (key: ApiKey) => void;
  onEditAllowedIps: (key: ApiKey) => void;
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
        </span>
      </td>
      <td>
        <time dateTime={apiKey.createdAt} title={formatDateTime(apiKey.createdAt)}>
          {formatDate(apiKey.createdAt)}
        </time>
      </td>
      <td>
        <LastUsed apiKey={apiKey} />
      </td>
      <td>
        <Expires iso={apiKey.expiresAt} soon={apiKey.expiresSoon} />
      </td>
      <td>
        <StatusBadge apiKey={apiKey} />
      </td>
      <td className="cell-actions">
        {active ? (
          <div className="row-actions row-actions-grid">
            {rotating ? null : (
              <button
                type="button"
                className="button button-secondary button-small"
                aria-describedby={nameId}
                onClick={() => onRotate(apiKey)}
              >
                Rotate
              </button>
            )}
            <button
              type="button"
              className={`button button-danger-quiet button-small${rotating ? ' row-action-wide' : ''}`}
              aria-describedby={nameId}
              onClick={() => onRevoke(apiKey)}
            >
              Revoke
            </button>
            <button
              type="button"
              className="button button-secondary button-small row-action-wide"
              aria-describedby={nameId}
              onClick={() => onEditAllowedIps(apiKey)}
            >
              Allowed IPs
            </button>
          </div>
        ) : null}
      </td>
    </tr>
  );
}
