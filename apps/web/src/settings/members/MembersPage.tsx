import { can, requiredRole } from '@crowdee/core/permissions';
import { type Role, roleAtLeast, roleRank } from '@crowdee/core/roles';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { type ActiveOrganization, useSession } from '../../app/session.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { ACTIONS_COLUMN, DataTable } from '../../components/DataTable.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { RadioGroup, SelectField, TextField } from '../../components/Field.tsx';
import { DialogForm, SubmitButton } from '../../components/Form.tsx';
import { OrgPage } from '../../components/Page.tsx';
import { QuerySection } from '../../components/QuerySection.tsx';
import { Badge, EmptyState } from '../../components/Status.tsx';
import { fieldError } from '../../lib/errors.ts';
import { formatDate, formatDateTime, roleLabel } from '../../lib/format.ts';
import {
  canLeave,
  canRemoveMember,
  grantableRoles,
  LAST_OWNER_REASON,
  roleChangeChoices,
} from '../../lib/member-rules.ts';
import { describeRole } from '../../lib/roles.ts';
import { type Member, useTRPC } from '../../lib/trpc.ts';

type MemberDialog = { kind: 'role'; member: Member } | { kind: 'remove'; member: Member } | { kind: 'leave' };

export function MembersPage() {
  return <OrgPage title="Members" noun="members" describe={describeMembers} content={MembersContent} />;
}

function describeMembers(org: ActiveOrganization): string {
  return `People in ${org.name} and their roles. A role decides what a member can do, and caps the keys they create.`;
}

function MembersContent({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const { user } = useSession();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.members.list.queryOptions({ orgId: org.id }));
  const [dialog, setDialog] = useState<MemberDialog | null>(null);
  const manage = can(org.role, 'members:manage');
  const invite = can(org.role, 'members:invite');
  const list = members.data ?? [];
  const ownerCount = list.filter((m) => m.role === 'owner').length;

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.members.pathFilter()),
      queryClient.invalidateQueries(trpc.audit.pathFilter()),
      queryClient.invalidateQueries(trpc.keys.pathFilter()),
    ]);
  const remove = useMutation(
    trpc.members.remove.mutationOptions({
      onSuccess: async () => {
        await refresh();
        setDialog(null);
      },
    }),
  );
  const leave = useMutation(
    trpc.members.leave.mutationOptions({
      // Leaving changes which organization is active: reload everything.
      onSuccess: () => window.location.assign('/settings/api-keys'),
    }),
  );
  const close = () => {
    remove.reset();
    leave.reset();
    setDialog(null);
  };

  const me = list.find((m) => m.userId === user.id);
  const mayLeave = me ? canLeave(me.role, ownerCount) : false;

  return (
    <>
      {invite ? <InviteMemberCard org={org} onInvited={refresh} /> : null}
      {manage ? <PendingInvitationsCard org={org} onChanged={refresh} /> : null}

      <Card
        title={members.data ? `${list.length} ${list.length === 1 ? 'member' : 'members'}` : 'Members'}
        description={
          manage
            ? null
            : `Adding, removing and changing members needs the ${requiredRole('members:manage')} role; yours is ${org.role}.`
        }
      >
        <QuerySection
          query={members}
          items={list}
          loading="Loading members…"
          errorContext="Couldn’t load members"
          empty={<EmptyState title="No members">This organization has no members you can see.</EmptyState>}
        >
          {(shown) => (
            <DataTable
              caption={`Members of ${org.name}`}
              columns={['Member', 'Role', 'Joined', ACTIONS_COLUMN]}
            >
              {shown.map((member) => (
                <MemberRow
                  key={member.userId}
                  member={member}
                  isMe={member.userId === user.id}
                  actor={org.role}
                  ownerCount={ownerCount}
                  onChangeRole={() => setDialog({ kind: 'role', member })}
                  onRemove={() => setDialog({ kind: 'remove', member })}
                />
              ))}
            </DataTable>
          )}
        </QuerySection>
      </Card>

      {me ? (
        <Card
          danger
          label="Leave organization"
          title={`Leave ${org.name}`}
          description={
            mayLeave ? 'You lose access at once, and your keys stop working here.' : LAST_OWNER_REASON
          }
          actions={
            <Button variant="danger-quiet" disabled={!mayLeave} onClick={() => setDialog({ kind: 'leave' })}>
              Leave organization
            </Button>
          }
        />
      ) : null}

      {dialog?.kind === 'role' ? (
        <ChangeRoleDialog
          org={org}
          member={dialog.member}
          ownerCount={ownerCount}
          onClose={close}
          onChanged={refresh}
        />
      ) : null}
      {dialog?.kind === 'remove' ? (
        <ConfirmDialog
          title="Remove member"
          confirmLabel="Remove member"
          onConfirm={() => remove.mutate({ orgId: org.id, userId: dialog.member.userId })}
          onClose={close}
          pending={remove.isPending}
          error={remove.error}
        >
          <p>
            {dialog.member.name} ({dialog.member.email}) loses access to {org.name} at once, and their keys
            stop working here.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog?.kind === 'leave' ? (
        <ConfirmDialog
          title={`Leave ${org.name}`}
          confirmLabel="Leave organization"
          onConfirm={() => leave.mutate({ orgId: org.id })}
          onClose={close}
          pending={leave.isPending}
          error={leave.error}
        >
          <p>You lose access at once. To come back, an admin must add you again.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function MemberRow({
  member,
  isMe,
  actor,
  ownerCount,
  onChangeRole,
  onRemove,
}: {
  member: Member;
  isMe: boolean;
  actor: Role;
  ownerCount: number;
  onChangeRole: () => void;
  onRemove: () => void;
}) {
  const nameId = useId();
  const roleChoices = roleChangeChoices(actor, member.role, ownerCount);
  // Leaving is its own action; removing yourself here would be a surprise.
  const removable = !isMe && canRemoveMember(actor, member.role, ownerCount);
  return (
    <tr>
      <th scope="row" id={nameId} className="cell-name">
        <span className="cell-stack">
          <span>
            {member.name} {isMe ? <Badge>You</Badge> : null}
          </span>
          <span className="cell-sub">{member.email}</span>
        </span>
      </th>
      <td>
        <Badge tone={roleAtLeast(member.role, 'admin') ? 'purple' : 'neutral'}>
          {roleLabel(member.role)}
        </Badge>
      </td>
      <td>
        <time dateTime={member.joinedAt} title={formatDateTime(member.joinedAt)}>
          {formatDate(member.joinedAt)}
        </time>
      </td>
      <td className="cell-actions">
        {roleChoices.length > 0 || removable ? (
          <div className="row-actions">
            {roleChoices.length > 0 ? (
              <Button small aria-describedby={nameId} onClick={onChangeRole}>
                Change role
              </Button>
            ) : null}
            {removable ? (
              <Button variant="danger-quiet" small aria-describedby={nameId} onClick={onRemove}>
                Remove
              </Button>
            ) : null}
          </div>
        ) : null}
      </td>
    </tr>
  );
}

function InviteMemberCard({
  org,
  onInvited,
}: {
  org: ActiveOrganization;
  onInvited: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const grantable = grantableRoles(org.role);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [sent, setSent] = useState<string | null>(null);
  const invite = useMutation(
    trpc.members.invite.mutationOptions({
      onSuccess: async (invitation) => {
        await onInvited();
        setSent(`Invitation sent to ${invitation.email} as ${invitation.role}. They join once they accept.`);
        setEmail('');
      },
    }),
  );
  const submit = () => {
    setSent(null);
    invite.mutate({ orgId: org.id, email: email.trim(), role });
  };
  const emailError = fieldError(invite.error, 'email');
  return (
    <Card
      title="Invite member"
      description={`We mail them a link; they join only if they accept, signed in with that address verified. You can invite with roles up to your own (${org.role}).`}
    >
      <form
        className="card-body add-member-form"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
        noValidate
      >
        <TextField
          label="Email"
          type="email"
          autoComplete="off"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          error={emailError}
          className="field-grow"
        />
        <SelectField
          label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          error={fieldError(invite.error, 'role')}
        >
          {grantable.map((r) => (
            <option key={r} value={r}>
              {roleLabel(r)}
            </option>
          ))}
        </SelectField>
        <div className="add-member-submit">
          <SubmitButton pending={invite.isPending} label="Invite member" pendingLabel="Sending…" />
        </div>
      </form>
      <div className="card-body card-body-tight">
        {invite.error && !emailError ? (
          <ErrorNotice error={invite.error} compact context="Couldn’t send the invitation" />
        ) : null}
        <output className="form-status" aria-live="polite">
          {sent ?? ''}
        </output>
      </div>
    </Card>
  );
}

function PendingInvitationsCard({
  org,
  onChanged,
}: {
  org: ActiveOrganization;
  onChanged: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const invitations = useQuery(trpc.members.invitations.queryOptions({ orgId: org.id }));
  const cancel = useMutation(trpc.members.cancelInvitation.mutationOptions({ onSuccess: () => onChanged() }));
  const list = invitations.data ?? [];
  return (
    <Card
      title="Pending invitations"
      description="Invitations expire after 7 days. Inviting an address again resends it."
    >
      <QuerySection
        query={invitations}
        items={list}
        loading="Loading invitations…"
        errorContext="Couldn’t load invitations"
        empty={<EmptyState title="No pending invitations">Invite someone above.</EmptyState>}
      >
        {(shown) => (
          <DataTable
            caption={`Pending invitations to ${org.name}`}
            columns={['Email', 'Role', 'Expires', ACTIONS_COLUMN]}
          >
            {shown.map((invitation) => (
              <tr key={invitation.id}>
                <td>
                  {invitation.email}
                  {invitation.invitedBy ? (
                    <span className="cell-secondary"> invited by {invitation.invitedBy.name}</span>
                  ) : null}
                </td>
                <td>
                  <Badge tone="neutral">{roleLabel(invitation.role)}</Badge>
                </td>
                <td>{formatDateTime(invitation.expiresAt)}</td>
                <td className="cell-actions">
                  <Button
                    small
                    disabled={cancel.isPending || !grantableRoles(org.role).includes(invitation.role)}
                    onClick={() => cancel.mutate({ orgId: org.id, invitationId: invitation.id })}
                  >
                    Cancel
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </QuerySection>
      {cancel.error ? (
        <div className="card-body card-body-tight">
          <ErrorNotice error={cancel.error} compact context="Couldn’t cancel the invitation" />
        </div>
      ) : null}
    </Card>
  );
}

function ChangeRoleDialog({
  org,
  member,
  ownerCount,
  onClose,
  onChanged,
}: {
  org: ActiveOrganization;
  member: Member;
  ownerCount: number;
  onClose: () => void;
  onChanged: () => Promise<unknown>;
}) {
  const trpc = useTRPC();
  const choices = [member.role, ...roleChangeChoices(org.role, member.role, ownerCount)].sort(
    (a, b) => roleRank(a) - roleRank(b),
  );
  const [role, setRole] = useState<Role>(member.role);
  const update = useMutation(
    trpc.members.updateRole.mutationOptions({
      onSuccess: async () => {
        await onChanged();
        onClose();
      },
    }),
  );
  const submit = () => {
    if (role === member.role) {
      onClose();
      return;
    }
    update.mutate({ orgId: org.id, userId: member.userId, role });
  };
  return (
    <Dialog
      title="Change role"
      description={`${member.name} (${member.email}) is ${member.role} in ${org.name}. Their keys follow the new role at once.`}
      onClose={onClose}
      busy={update.isPending}
    >
      <DialogForm
        onSubmit={submit}
        showAllErrors
        errorContext="Couldn’t change the role"
        mutation={update}
        onCancel={onClose}
        submit={['Save role', 'Saving…']}
      >
        <RadioGroup<Role>
          legend="Role"
          name="member-role"
          value={role}
          onChange={setRole}
          options={choices.map((r) => ({
            value: r,
            label: r === member.role ? `${roleLabel(r)} (current)` : roleLabel(r),
            description: describeRole(r, 'session'),
          }))}
          hint={`You can grant roles up to your own (${org.role}).`}
        />
      </DialogForm>
    </Dialog>
  );
}
