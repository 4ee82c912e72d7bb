import { can } from '@crowdee/core/permissions';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { CreateOrganizationDialog } from '../../app/CreateOrganizationDialog.tsx';
import { useSession } from '../../app/session.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { Checkbox } from '../../components/Field.tsx';
import { Page } from '../../components/Page.tsx';
import { QuerySection } from '../../components/QuerySection.tsx';
import { EmptyState } from '../../components/Status.tsx';
import { type ApiKey, useTRPC } from '../../lib/trpc.ts';
import { AllowedIpsDialog } from './AllowedIpsDialog.tsx';
import { CreateKeyDialog } from './CreateKeyDialog.tsx';
import { KeyPolicySection } from './KeyPolicySection.tsx';
import { KeysTable } from './KeysTable.tsx';
import { KeyUsageDialog } from './KeyUsageDialog.tsx';
import { OrgKeysSection } from './OrgKeysSection.tsx';
import { RevealKeyDialog } from './RevealKeyDialog.tsx';
import { RotateKeyDialog } from './RotateKeyDialog.tsx';
import { TwoFactorPolicySection } from './TwoFactorPolicySection.tsx';

type DialogState =
  | { kind: 'create' }
  | { kind: 'reveal'; secret: string; apiKey: ApiKey; replaced?: ApiKey }
  | { kind: 'rotate'; apiKey: ApiKey }
  | { kind: 'allowed-ips'; apiKey: ApiKey }
  | { kind: 'revoke'; apiKey: ApiKey }
  | { kind: 'usage'; apiKey: ApiKey }
  | { kind: 'create-org' };

export function ApiKeysPage() {
  const { activeOrg } = useSession();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.keys.list.queryOptions());
  const [dialog, setDialog] = useState<DialogState | null>(null);
  const [showInactive, setShowInactive] = useState(false);

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.keys.pathFilter()),
      queryClient.invalidateQueries(trpc.audit.pathFilter()),
    ]);

  const revoke = useMutation(
    trpc.keys.revoke.mutationOptions({
      onSuccess: async () => {
        await refresh();
        setDialog(null);
      },
    }),
  );

  const close = () => {
    revoke.reset();
    setDialog(null);
  };

  const all = keys.data ?? [];
  const active = all.filter((k) => k.status === 'active');
  const inactiveCount = all.length - active.length;
  const visible = showInactive ? all : active;
  const isAdmin = activeOrg !== null && can(activeOrg.role, 'keys:manage-org');

  return (
    <Page
      title="API keys"
      description="Keys let scripts and services call the Crowdee API as you. A key never has more power than you: its role is capped by yours in every organization, and it stops when you leave one."
    >
      <Card
        title="Your API keys"
        description={
          activeOrg
            ? `New keys can have a role up to yours in ${activeOrg.name} (${activeOrg.role}).`
            : 'Create an organization first: a key’s role is checked against your role there.'
        }
        actions={
          <Button variant="primary" onClick={() => setDialog({ kind: 'create' })} disabled={!activeOrg}>
            Create API key
          </Button>
        }
      >
        <QuerySection
          query={keys}
          items={all}
          loading="Loading API keys…"
          errorContext="Couldn’t load your API keys"
          empty={
            activeOrg ? (
              <EmptyState title="No API keys yet">
                Create a key to call the Crowdee API from a script or a service. You will see it once, so have
                somewhere safe to store it.
              </EmptyState>
            ) : (
              <EmptyState
                title="You are not in an organization yet"
                action={
                  <Button variant="primary" onClick={() => setDialog({ kind: 'create-org' })}>
                    Create your first organization
                  </Button>
                }
              >
                Keys act in organizations. Create one, or ask an admin to add you to theirs.
              </EmptyState>
            )
          }
        >
          {() => (
            <>
              {visible.length === 0 ? (
                <EmptyState title="No active keys">All your keys are revoked or expired.</EmptyState>
              ) : (
                <KeysTable
                  keys={visible}
                  caption="Your API keys"
                  onRotate={(apiKey) => setDialog({ kind: 'rotate', apiKey })}
                  onRevoke={(apiKey) => setDialog({ kind: 'revoke', apiKey })}
                  onEditAllowedIps={(apiKey) => setDialog({ kind: 'allowed-ips', apiKey })}
                  onUsage={(apiKey) => setDialog({ kind: 'usage', apiKey })}
                />
              )}
              {inactiveCount > 0 ? (
                <div className="card-footer">
                  <Checkbox checked={showInactive} onChange={setShowInactive}>
                    <span>Show revoked and expired keys ({inactiveCount})</span>
                  </Checkbox>
                </div>
              ) : null}
            </>
          )}
        </QuerySection>
      </Card>

      {activeOrg && isAdmin ? <OrgKeysSection org={activeOrg} /> : null}
      {activeOrg ? <KeyPolicySection key={activeOrg.id} org={activeOrg} /> : null}
      {activeOrg ? <TwoFactorPolicySection org={activeOrg} /> : null}

      {dialog?.kind === 'create' && activeOrg ? (
        <CreateKeyDialog
          activeOrg={activeOrg}
          onClose={close}
          onCreated={(secret, apiKey) => {
            void refresh();
            setDialog({ kind: 'reveal', secret, apiKey });
          }}
        />
      ) : null}
      {dialog?.kind === 'reveal' ? (
        <RevealKeyDialog
          secret={dialog.secret}
          apiKey={dialog.apiKey}
          replaced={dialog.replaced}
          onClose={close}
        />
      ) : null}
      {dialog?.kind === 'allowed-ips' ? (
        <AllowedIpsDialog
          apiKey={dialog.apiKey}
          onClose={close}
          onSaved={() => {
            void refresh();
            setDialog(null);
          }}
        />
      ) : null}
      {dialog?.kind === 'rotate' ? (
        <RotateKeyDialog
          apiKey={dialog.apiKey}
          onClose={close}
          onRotated={(secret, apiKey, replaced) => {
            void refresh();
            setDialog({ kind: 'reveal', secret, apiKey, replaced });
          }}
        />
      ) : null}
      {dialog?.kind === 'revoke' ? (
        <ConfirmDialog
          title="Revoke API key"
          confirmLabel="Revoke key"
          onConfirm={() => revoke.mutate({ id: dialog.apiKey.id })}
          onClose={close}
          pending={revoke.isPending}
          error={revoke.error}
        >
          <p>
            <strong>{dialog.apiKey.name}</strong> <code className="key-hint">{dialog.apiKey.hint}</code> will
            stop working at once, in every organization. Anything still using it will get 401 errors. This
            cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog?.kind === 'usage' ? <KeyUsageDialog apiKey={dialog.apiKey} onClose={close} /> : null}
      {dialog?.kind === 'create-org' ? <CreateOrganizationDialog onClose={close} /> : null}
    </Page>
  );
}
