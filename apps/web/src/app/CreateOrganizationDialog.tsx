import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Dialog, FormFooter } from '../components/Dialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { fieldError } from '../lib/errors.ts';
import { useTRPC } from '../lib/trpc.ts';

/** Creates an organization (I become its owner) and makes it the active one. */
export function CreateOrganizationDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [missing, setMissing] = useState(false);
  const setActive = useMutation(trpc.orgs.setActive.mutationOptions());
  const create = useMutation(
    trpc.orgs.create.mutationOptions({
      onSuccess: async (org) => {
        await setActive.mutateAsync({ orgId: org.id });
        await queryClient.invalidateQueries();
        onClose();
      },
    }),
  );
  const pending = create.isPending || setActive.isPending;
  const error = create.error ?? setActive.error;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) {
      setMissing(true);
      return;
    }
    create.mutate({ name: name.trim() });
  };

  return (
    <Dialog
      title="Create organization"
      description="You will be its owner. You can add members and create API keys for it next."
      onClose={onClose}
      busy={pending}
      size="small"
    >
      <form onSubmit={submit} noValidate>
        <TextField
          label="Organization name"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setMissing(false);
          }}
          maxLength={100}
          autoComplete="organization"
          required
          data-autofocus
          error={missing ? 'Enter a name.' : fieldError(create.error, 'name')}
        />
        {error && !fieldError(error, 'name') ? (
          <ErrorNotice error={error} compact context="Couldn’t create the organization" />
        ) : null}
        <FormFooter
          onCancel={onClose}
          pending={pending}
          submitLabel="Create organization"
          pendingLabel="Creating…"
        />
      </form>
    </Dialog>
  );
}
