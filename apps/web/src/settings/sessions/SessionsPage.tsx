import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId } from 'react';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { ACTIONS_COLUMN, DataTable } from '../../components/DataTable.tsx';
import { Page } from '../../components/Page.tsx';
import { QuerySection } from '../../components/QuerySection.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { Badge, useDialogStatus } from '../../components/Status.tsx';
import { describeUserAgent, formatDate, formatDateTime } from '../../lib/format.ts';
import { type SessionInfo, useTRPC } from '../../lib/trpc.ts';

type SessionDialog = { kind: 'one'; session: SessionInfo } | { kind: 'others' };

export function SessionsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.sessions.list.queryOptions());
  const { dialog, done, open, finish, ...dialogs } = useDialogStatus<SessionDialog>(() =>
    queryClient.invalidateQueries(trpc.sessions.pathFilter()),
  );
  const revoke = useMutation(
    trpc.sessions.revoke.mutationOptions({
      onSuccess: () => finish('The session was signed out.'),
    }),
  );
  const revokeOthers = useMutation(
    trpc.sessions.revokeOthers.mutationOptions({
      onSuccess: (result) =>
        finish(
          result.revoked === 0
            ? 'No other sessions were signed in.'
            : `Signed out ${result.revoked} other ${result.revoked === 1 ? 'session' : 'sessions'}.`,
        ),
    }),
  );
  const close = () => {
    revoke.reset();
    revokeOthers.reset();
    dialogs.close();
  };
  const others = (sessions.data ?? []).filter((s) => !s.current);

  return (
    <Page
      title="Sessions"
      description="Where your account is signed in. If you don’t recognise a session, sign it out and change your password."
    >
      <Card
        title="Active sessions"
        description="Sessions end after a period of inactivity, and always after their expiry."
        actions={
          <Button disabled={others.length === 0} onClick={() => open({ kind: 'others' })}>
            Sign out other sessions
          </Button>
        }
        status={done}
      >
        <QuerySection
          query={sessions}
          items={sessions.data}
          loading="Loading sessions…"
          errorContext="Couldn’t load sessions"
          empty="No sessions"
        >
          {(list) => (
            <DataTable
              caption="Active sessions"
              columns={['Device', 'IP address', 'Signed in', 'Last active', 'Expires', ACTIONS_COLUMN]}
            >
              {list.map((session) => (
                <SessionRow
                  key={session.id}
                  session={session}
                  onRevoke={() => open({ kind: 'one', session })}
                />
              ))}
            </DataTable>
          )}
        </QuerySection>
      </Card>
      {dialog?.kind === 'one' ? (
        <ConfirmDialog
          title="Sign out session"
          confirmLabel="Sign out session"
          onConfirm={() => revoke.mutate({ id: dialog.session.id })}
          onClose={close}
          pending={revoke.isPending}
          error={revoke.error}
        >
          <p>
            {describeUserAgent(dialog.session.userAgent)}
            {dialog.session.ip ? ` at ${dialog.session.ip}` : ''} will be signed out at once.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog?.kind === 'others' ? (
        <ConfirmDialog
          title="Sign out other sessions"
          confirmLabel="Sign out other sessions"
          onConfirm={() => revokeOthers.mutate()}
          onClose={close}
          pending={revokeOthers.isPending}
          error={revokeOthers.error}
        >
          <p>
            Every other browser and device signed in to your account will be signed out at once. This one
            stays signed in, and so do the session tokens made from it; the others' session tokens stop with
            them. Your API keys are not affected.
          </p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}

function SessionRow({ session, onRevoke }: { session: SessionInfo; onRevoke: () => void }) {
  const deviceId = useId();
  return (
    <tr>
      <th scope="row" id={deviceId} className="cell-name">
        <span className="cell-stack">
          <span>
            {describeUserAgent(session.userAgent)}{' '}
            {session.current ? <Badge tone="green">This session</Badge> : null}
          </span>
          {session.tokens.length > 0 ? (
            <span className="cell-sub">
              Session tokens (end with this session):{' '}
              {session.tokens.map((token, i) => (
                <span key={token.id}>
                  {i > 0 ? ', ' : ''}
                  {token.audience} <code className="key-hint">{token.hint}</code>
                </span>
              ))}
            </span>
          ) : null}
        </span>
      </th>
      <td>
        {session.ip ? <code className="ip">{session.ip}</code> : <span className="muted">Unknown</span>}
      </td>
      <td>
        <time dateTime={session.createdAt} title={formatDateTime(session.createdAt)}>
          {formatDate(session.createdAt)}
        </time>
      </td>
      <td>
        <RelativeTime iso={session.lastSeenAt} />
      </td>
      <td>
        <time dateTime={session.expiresAt} title={formatDateTime(session.expiresAt)}>
          {formatDate(session.expiresAt)}
        </time>
      </td>
      <td className="cell-actions">
        {session.current ? null : (
          <Button variant="danger-quiet" small aria-describedby={deviceId} onClick={onRevoke}>
            Sign out
          </Button>
        )}
      </td>
    </tr>
  );
}
