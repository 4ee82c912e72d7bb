import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Dialog } from '../components/Dialog.tsx';
import { TextField } from '../components/Field.tsx';
import { DialogForm } from '../components/Form.tsx';
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
  // A name error shows under the field; the activation's or any other error shows above the buttons.
  const formError = error && !fieldError(error, 'name') ? error : null;

  const submit = () => {
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
      <DialogForm
        onSubmit={submit}
        showAllErrors
        errorContext="Couldn’t create the organization"
        mutation={{ error: formError, isPending: pending }}
        onCancel={onClose}
        submit={['Create organization', 'Creating…']}
      >
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
      </DialogForm>
    </Dialog>
  );
}
