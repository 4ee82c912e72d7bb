import { startRegistration } from '@simplewebauthn/browser';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ACTIONS_COLUMN, DataTable } from '../components/DataTable.tsx';
import { Dialog, FormFooter } from '../components/Dialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { QuerySection } from '../components/QuerySection.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { Badge } from '../components/Status.tsx';
import { fieldError, formLevelError } from '../lib/errors.ts';
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
  const headingId = useId();
  const passkeys = useQuery(trpc.auth.passkeys.list.queryOptions());
  const [dialog, setDialog] = useState<PasskeyDialog | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries(trpc.auth.passkeys.list.pathFilter());
  const finished = async (message: string) => {
    await refresh();
    setDone(message);
    setDialog(null);
  };
  const open = (next: PasskeyDialog) => {
    setDone(null);
    setDialog(next);
  };
  const supported = passkeysSupported();

  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            Passkeys
          </h2>
          <p className="card-description">
            Sign in without a password, or confirm it’s you, with your device’s fingerprint, face or screen
            lock, or a security key. A passkey is also a second factor after your password.
            {supported ? '' : ' This browser cannot use passkeys.'}
          </p>
        </div>
        <button
          type="button"
          className="button button-secondary"
          disabled={!supported}
          onClick={() => open({ kind: 'add' })}
        >
          Add a passkey
        </button>
      </div>
      {done ? (
        <output className="card-body form-status" aria-live="polite">
          {done}
        </output>
      ) : null}
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
          onClose={() => setDialog(null)}
          onAdded={(name, ended) => void finished(`Passkey “${name}” added.${signedOut(ended)}`)}
        />
      ) : null}
      {dialog?.kind === 'rename' ? (
        <RenamePasskeyDialog
          passkey={dialog.passkey}
          onClose={() => setDialog(null)}
          onRenamed={(name) => void finished(`Passkey renamed to “${name}”.`)}
        />
      ) : null}
      {dialog?.kind === 'remove' ? (
        <RemovePasskeyDialog
          passkey={dialog.passkey}
          onClose={() => setDialog(null)}
          onRemoved={(ended) => void finished(`Passkey “${dialog.passkey.name}” removed.${signedOut(ended)}`)}
        />
      ) : null}
    </section>
  );
}

function signedOut(ended: number): string {
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
        <button
          type="button"
          className="button button-ghost button-small"
          aria-describedby={nameId}
          onClick={onRename}
        >
          Rename
        </button>
        <button
          type="button"
          className="button button-danger-quiet button-small"
          aria-describedby={nameId}
          onClick={onRemove}
        >
          Remove
        </button>
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

function AddPasskeyDialog({
  onClose,
  onAdded,
}: {
  onClose: () => void;
  onAdded: (name: string, endedSessions: number) => void;
}) {
  const client = useTRPCClient();
  const [name, setName] = useState('');
  const add = useMutation({
    mutationFn: async (label: string) => {
      const { ceremonyId, options } = await client.auth.passkeys.registrationOptions.mutate();
      const response = await startRegistration({ optionsJSON: options });
      return client.auth.passkeys.register.mutate({ ceremonyId, name: label, response });
    },
    onSuccess: (result) => onAdded(result.passkey.name, result.endedSessions),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate(name.trim());
  };
  const formError = formLevelError(add.error);
  return (
    <Dialog
      title="Add a passkey"
      description="Name it after the device or key it lives on. Your browser then asks you to create the passkey. Other sessions of your account are signed out."
      onClose={onClose}
      busy={add.isPending}
    >
      <form className="form-stack" onSubmit={submit} noValidate>
        <TextField
          label="Passkey name"
          placeholder="e.g. MacBook, YubiKey"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          required
          data-autofocus
          error={fieldError(add.error, 'name')}
        />
        {formError ? <PasskeyError error={formError} context="Couldn’t add the passkey" /> : null}
        <FormFooter
          onCancel={onClose}
          pending={add.isPending}
          submitLabel="Continue"
          pendingLabel="Waiting for your passkey…"
        />
      </form>
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
  const [name, setName] = useState(passkey.name);
  const rename = useMutation(
    trpc.auth.passkeys.rename.mutationOptions({ onSuccess: (p) => onRenamed(p.name) }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate({ id: passkey.id, name });
  };
  const formError = formLevelError(rename.error);
  return (
    <Dialog title="Rename passkey" onClose={onClose} busy={rename.isPending} size="small">
      <form className="form-stack" onSubmit={submit} noValidate>
        <TextField
          label="Passkey name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          required
          data-autofocus
          error={fieldError(rename.error, 'name')}
        />
        {formError ? <ErrorNotice error={formError} compact context="Couldn’t rename the passkey" /> : null}
        <FormFooter onCancel={onClose} pending={rename.isPending} submitLabel="Save" pendingLabel="Saving…" />
      </form>
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
