import { startRegistration } from '@simplewebauthn/browser';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId } from 'react';
import { Button } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ACTIONS_COLUMN, DataTable } from '../components/DataTable.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { DialogForm, useFormFields } from '../components/Form.tsx';
import { QuerySection } from '../components/QuerySection.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { Badge, useDialogStatus } from '../components/Status.tsx';
import { formatDate, formatDateTime } from '../lib/format.ts';
import { type PasskeyInfo, useTRPC, useTRPCClient } from '../lib/trpc.ts';
import { passkeyPromptProblem, passkeysSupported } from './passkeys.ts';

type PasskeyDialog =
  | { kind: 'add' }
  | { kind: 'rename'; passkey: PasskeyInfo }
  | { kind: 'remove'; passkey: PasskeyInfo };

/**
 * Settings → Security: the account's passkeys. Adding one asks for a name, then the browser's passkey prompt;
 * adding or removing one signs out the account's other sessions (the API does it; we say so).
 */
export function PasskeysSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const passkeys = useQuery(trpc.auth.passkeys.list.queryOptions());
  const { dialog, done, open, close, finish } = useDialogStatus<PasskeyDialog>(() =>
    queryClient.invalidateQueries(trpc.auth.passkeys.list.pathFilter()),
  );
  const supported = passkeysSupported();

  return (
    <Card
      title="Passkeys"
      description={`Sign in without a password, or confirm it’s you, with your device’s fingerprint, face or screen lock, or a security key. A passkey is also a second factor after your password.${supported ? '' : ' This browser cannot use passkeys.'}`}
      actions={
        <Button disabled={!supported} onClick={() => open({ kind: 'add' })}>
          Add a passkey
        </Button>
      }
      status={done}
    >
      <QuerySection
        query={passkeys}
        items={passkeys.data}
        loading="Loading passkeys…"
        errorContext="Couldn’t load passkeys"
        empty="No passkeys yet"
      >
        {(list) => (
          <DataTable caption="Your passkeys" columns={['Name', 'Added', 'Last used', ACTIONS_COLUMN]}>
            {list.map((passkey) => (
              <PasskeyRow
                key={passkey.id}
                passkey={passkey}
                onRename={() => open({ kind: 'rename', passkey })}
                onRemove={() => open({ kind: 'remove', passkey })}
              />
            ))}
          </DataTable>
        )}
      </QuerySection>
      {dialog?.kind === 'add' ? (
        <AddPasskeyDialog
          onClose={close}
          onAdded={(name, ended) => void finish(`Passkey “${name}” added.${signedOut(ended)}`)}
        />
      ) : null}
      {dialog?.kind === 'rename' ? (
        <RenamePasskeyDialog
          passkey={dialog.passkey}
          onClose={close}
          onRenamed={(name) => void finish(`Passkey renamed to “${name}”.`)}
        />
      ) : null}
      {dialog?.kind === 'remove' ? (
        <RemovePasskeyDialog
          passkey={dialog.passkey}
          onClose={close}
          onRemoved={(ended) => void finish(`Passkey “${dialog.passkey.name}” removed.${signedOut(ended)}`)}
        />
      ) : null}
    </Card>
  );
}

/** The end of a message about a change that signed out the account's other sessions. */
export function signedOut(ended: number): string {
  if (ended === 0) return '';
  return ` ${ended} other ${ended === 1 ? 'session was' : 'sessions were'} signed out.`;
}

function PasskeyRow({
  passkey,
  onRename,
  onRemove,
}: {
  passkey: PasskeyInfo;
  onRename: () => void;
  onRemove: () => void;
}) {
  const nameId = useId();
  return (
    <tr>
      <th scope="row" id={nameId} className="cell-name">
        {passkey.name}{' '}
        {passkey.deviceType === 'multiDevice' ? (
          <Badge tone="blue" title="Synced between your devices by your passkey provider">
            Synced
          </Badge>
        ) : null}
      </th>
      <td>
        <time dateTime={passkey.createdAt} title={formatDateTime(passkey.createdAt)}>
          {formatDate(passkey.createdAt)}
        </time>
      </td>
      <td>
        {passkey.lastUsedAt ? (
          <RelativeTime iso={passkey.lastUsedAt} />
        ) : (
          <span className="muted">Never</span>
        )}
      </td>
      <td className="cell-actions">
        <Button variant="ghost" small aria-describedby={nameId} onClick={onRename}>
          Rename
        </Button>
        <Button variant="danger-quiet" small aria-describedby={nameId} onClick={onRemove}>
          Remove
        </Button>
      </td>
    </tr>
  );
}

/** A notice for a failed passkey prompt (cancelled, timed out…), or the API's error. */
export function PasskeyError({ error, context }: { error: unknown; context: string }) {
  const problem = passkeyPromptProblem(error);
  if (!problem) return <ErrorNotice error={error} compact context={context} />;
  return (
    <div className="notice notice-error notice-compact" role="alert">
      <div className="notice-content">
        <p className="notice-title">{problem.title}</p>
        <p className="notice-message">{problem.message}</p>
      </div>
    </div>
  );
}

/** A passkey ceremony's button, and above it why the last attempt failed. */
export function PasskeyAction({
  mutation,
  label,
  errorContext,
}: {
  mutation: { mutate: () => void; isPending: boolean; error: unknown };
  label: string;
  errorContext: string;
}) {
  return (
    <>
      {mutation.error ? <PasskeyError error={mutation.error} context={errorContext} /> : null}
      <Button className="button-block" onClick={() => mutation.mutate()} disabled={mutation.isPending}>
        {mutation.isPending ? 'Waiting for your passkey…' : label}
      </Button>
    </>
  );
}

function AddPasskeyDialog({
  onClose,
  onAdded,
}: {
  onClose: () => void;
  onAdded: (name: string, endedSessions: number) => void;
}) {
  const client = useTRPCClient();
  const add = useMutation({
    mutationFn: async (label: string) => {
      const { ceremonyId, options } = await client.auth.passkeys.registrationOptions.mutate();
      const response = await startRegistration({ optionsJSON: options });
      return client.auth.passkeys.register.mutate({ ceremonyId, name: label, response });
    },
    onSuccess: (result) => onAdded(result.passkey.name, result.endedSessions),
  });
  const form = useFormFields({ name: '' }, add.error);
  return (
    <Dialog
      title="Add a passkey"
      description="Name it after the device or key it lives on. Your browser then asks you to create the passkey. Other sessions of your account are signed out."
      onClose={onClose}
      busy={add.isPending}
    >
      <DialogForm
        mutation={add}
        onCancel={onClose}
        onSubmit={() => add.mutate(form.values.name.trim())}
        errorContext="Couldn’t add the passkey"
        errorNotice={PasskeyError}
        submit={['Continue', 'Waiting for your passkey…']}
      >
        <TextField
          label="Passkey name"
          placeholder="e.g. MacBook, YubiKey"
          maxLength={100}
          required
          data-autofocus
          {...form.field('name')}
        />
      </DialogForm>
    </Dialog>
  );
}

function RenamePasskeyDialog({
  passkey,
  onClose,
  onRenamed,
}: {
  passkey: PasskeyInfo;
  onClose: () => void;
  onRenamed: (name: string) => void;
}) {
  const trpc = useTRPC();
  const rename = useMutation(
    trpc.auth.passkeys.rename.mutationOptions({ onSuccess: (p) => onRenamed(p.name) }),
  );
  const form = useFormFields({ name: passkey.name }, rename.error);
  return (
    <Dialog title="Rename passkey" onClose={onClose} busy={rename.isPending} size="small">
      <DialogForm
        mutation={rename}
        onCancel={onClose}
        onSubmit={() => rename.mutate({ id: passkey.id, ...form.values })}
        errorContext="Couldn’t rename the passkey"
        submit={['Save', 'Saving…']}
      >
        <TextField label="Passkey name" maxLength={100} required data-autofocus {...form.field('name')} />
      </DialogForm>
    </Dialog>
  );
}

function RemovePasskeyDialog({
  passkey,
  onClose,
  onRemoved,
}: {
  passkey: PasskeyInfo;
  onClose: () => void;
  onRemoved: (endedSessions: number) => void;
}) {
  const trpc = useTRPC();
  const remove = useMutation(
    trpc.auth.passkeys.remove.mutationOptions({ onSuccess: (r) => onRemoved(r.endedSessions) }),
  );
  return (
    <ConfirmDialog
      title="Remove passkey"
      confirmLabel="Remove passkey"
      onConfirm={() => remove.mutate({ id: passkey.id })}
      onClose={onClose}
      pending={remove.isPending}
      error={remove.error}
    >
      <p>
        <strong>{passkey.name}</strong> will no longer sign you in or confirm it’s you. Other sessions of your
        account are signed out. If it is your last second factor, you must have confirmed with it in the last
        10 minutes.
      </p>
    </ConfirmDialog>
  );
}
