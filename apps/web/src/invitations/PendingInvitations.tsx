import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { takeTokenFromLocation } from '../auth/token-link.ts';
import { Button } from '../components/Button.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { formatDate, roleLabel } from '../lib/format.ts';
import { type MyInvitation, useTRPC } from '../lib/trpc.ts';

/**
 * Invitations addressed to the signed-in user's verified address. Nobody joins anything until they press Accept.
 * Opened from a mailed link (`/invitations?invitation=…#token=…`), the link's token goes with that answer.
 */
export function PendingInvitations() {
  const trpc = useTRPC();
  const headingId = useId();
  const invitations = useQuery(trpc.invitations.list.queryOptions());
  const [linked] = useState(() => ({
    invitationId: new URLSearchParams(window.location.search).get('invitation'),
    token: window.location.pathname === '/invitations' ? takeTokenFromLocation() : null,
  }));
  const list = invitations.data ?? [];
  if (list.length === 0) return null;
  return (
    <section className="banner banner-info" aria-labelledby={headingId}>
      <h2 id={headingId} className="banner-title">
        {list.length === 1 ? 'You have an invitation' : `You have ${list.length} invitations`}
      </h2>
      <ul className="invitation-list">
        {list.map((invitation) => (
          <InvitationRow
            key={invitation.id}
            invitation={invitation}
            token={linked.invitationId === invitation.id ? linked.token : null}
          />
        ))}
      </ul>
    </section>
  );
}

function InvitationRow({ invitation, token }: { invitation: MyInvitation; token: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const answer = { invitationId: invitation.id, ...(token ? { token } : {}) };
  // Joining changes the organizations, members and keys the app shows: refetch everything.
  const onDone = () => queryClient.invalidateQueries();
  const accept = useMutation(trpc.invitations.accept.mutationOptions({ onSuccess: onDone }));
  const decline = useMutation(trpc.invitations.decline.mutationOptions({ onSuccess: onDone }));
  const busy = accept.isPending || decline.isPending;
  const error = accept.error ?? decline.error;
  return (
    <li className="invitation-row" aria-label={`Invitation to ${invitation.organization.name}`}>
      <p className="banner-text">
        {invitation.invitedBy ? `${invitation.invitedBy.name} invited you` : 'You are invited'} to join{' '}
        <strong>{invitation.organization.name}</strong> as {roleLabel(invitation.role).toLowerCase()}. Expires{' '}
        {formatDate(invitation.expiresAt)}.
      </p>
      <div className="banner-actions">
        <Button variant="primary" small onClick={() => accept.mutate(answer)} disabled={busy}>
          Accept
        </Button>
        <Button small onClick={() => decline.mutate(answer)} disabled={busy}>
          Decline
        </Button>
      </div>
      {error ? <ErrorNotice error={error} compact context="Couldn’t answer the invitation" /> : null}
    </li>
  );
}
