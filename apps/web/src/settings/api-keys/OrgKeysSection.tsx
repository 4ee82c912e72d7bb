import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { ActiveOrganization } from '../../app/session.tsx';
import { useSession } from '../../app/session.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { ACTIONS_COLUMN, DataTable } from '../../components/DataTable.tsx';
import { QuerySection } from '../../components/QuerySection.tsx';
import { Badge, EmptyState } from '../../components/Status.tsx';
import { roleLabel } from '../../lib/format.ts';
import { type OrgApiKey, useTRPC } from '../../lib/trpc.ts';
import { Expires, LastUsed } from './key-display.tsx';

/**
 * For admins: every active key that can act on the organization, whoever made it. An admin's own key can be
 * revoked (everywhere, it is theirs); anyone else's can only be cut off from this organization — it keeps working
 * in its creator's other organizations, and its creator sees which organization cut it off.
 */
export function OrgKeysSection({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const { user } = useSession();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.keys.listForOrg.queryOptions({ orgId: org.id }));
  const [revoking, setRevoking] = useState<OrgApiKey | null>(null);
  const revoke = useMutation(
    trpc.keys.revoke.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.keys.pathFilter()),
          queryClient.invalidateQueries(trpc.audit.pathFilter()),
        ]);
        setRevoking(null);
      },
    }),
  );
  const close = () => {
    revoke.reset();
    setRevoking(null);
  };

  return (
    <Card
      title={`Keys with access to ${org.name}`}
      description={`Every active key that can act on ${org.name}, including other members’ keys, with the role it acts with here and its last use here. Only admins and owners see this list.`}
    >
      <QuerySection
        query={keys}
        items={keys.data}
        loading="Loading the organization’s keys…"
        errorContext="Couldn’t load the organization’s keys"
        empty={<EmptyState title="No active keys">No key can act on {org.name} right now.</EmptyState>}
      >
        {(list) => (
          <DataTable
            caption={`Keys with access to ${org.name}`}
            columns={['Name', 'Created by', 'Role here', 'Last used', 'Expires', ACTIONS_COLUMN]}
          >
            {list.map((key) => (
              <OrgKeyRow key={key.id} apiKey={key} mine={key.creator.id === user.id} onRevoke={setRevoking} />
            ))}
          </DataTable>
        )}
      </QuerySection>
      {revoking && revoking.creator.id === user.id ? (
        <ConfirmDialog
          title="Revoke API key"
          confirmLabel="Revoke key"
          onConfirm={() => revoke.mutate({ id: revoking.id, orgId: org.id })}
          onClose={close}
          pending={revoke.isPending}
          error={revoke.error}
        >
          <p>
            Your key <strong>{revoking.name}</strong> <code className="key-hint">{revoking.hint}</code> will
            stop working at once, in every organization.
          </p>
        </ConfirmDialog>
      ) : revoking ? (
        <ConfirmDialog
          title="Cut off API key"
          confirmLabel={`Cut off from ${org.name}`}
          onConfirm={() => revoke.mutate({ id: revoking.id, orgId: org.id })}
          onClose={close}
          pending={revoke.isPending}
          error={revoke.error}
        >
          <p>
            <strong>{revoking.name}</strong> <code className="key-hint">{revoking.hint}</code>, created by{' '}
            {revoking.creator.name}, will stop working in {org.name} at once. It keeps working in{' '}
            {revoking.creator.name}’s other organizations: only its creator can revoke it everywhere. They
            will see in their API keys that {org.name} cut it off.
          </p>
        </ConfirmDialog>
      ) : null}
    </Card>
  );
}

function OrgKeyRow({
  apiKey,
  mine,
  onRevoke,
}: {
  apiKey: OrgApiKey;
  mine: boolean;
  onRevoke: (key: OrgApiKey) => void;
}) {
  const nameId = useId();
  const capped = apiKey.effectiveRole !== apiKey.role;
  return (
    <tr>
      <th scope="row" id={nameId} className="cell-name">
        <span className="cell-stack">
          <span>{apiKey.name}</span>
          <code className="key-hint">{apiKey.hint}</code>
        </span>
      </th>
      <td>
        <span className="cell-stack">
          <span>
            {apiKey.creator.name} {mine ? <Badge>You</Badge> : null}
          </span>
          <span className="cell-sub">{apiKey.creator.email}</span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <Badge tone="blue">{roleLabel(apiKey.effectiveRole)}</Badge>
          {capped ? (
            <span className="cell-sub">key says {apiKey.role}, capped by its creator’s role</span>
          ) : null}
          {apiKey.blockedByTwoFactorPolicy.length > 0 ? (
            <span className="cell-sub">
              <Badge tone="amber" wrap>
                Two-factor required
              </Badge>{' '}
              Refused here until its creator sets up two-factor sign-in
            </span>
          ) : null}
        </span>
      </td>
      <td>
        <LastUsed apiKey={apiKey} />
      </td>
      <td>
        <Expires iso={apiKey.expiresAt} soon={apiKey.expiresSoon} />
      </td>
      <td className="cell-actions">
        <Button variant="danger-quiet" small aria-describedby={nameId} onClick={() => onRevoke(apiKey)}>
          {mine ? 'Revoke' : 'Cut off'}
        </Button>
      </td>
    </tr>
  );
}
