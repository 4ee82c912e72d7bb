import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Dialog } from '../../components/Dialog.tsx';
import { DialogForm } from '../../components/Form.tsx';
import { describeError } from '../../lib/errors.ts';
import { type ApiKey, useTRPC } from '../../lib/trpc.ts';
import { AllowedIpsField, allowlistLines, allowlistProblem } from './KeyRestrictionFields.tsx';

interface AllowedIpsDialogProps {
  apiKey: ApiKey;
  onClose: () => void;
  onSaved: () => void;
}

/** The owner edits where a key may be used from; the change holds on every API node at once. */
export function AllowedIpsDialog({ apiKey, onClose, onSaved }: AllowedIpsDialogProps) {
  const trpc = useTRPC();
  const [text, setText] = useState((apiKey.allowedIps ?? []).join('\n'));
  const [showErrors, setShowErrors] = useState(false);
  const save = useMutation(trpc.keys.updateAllowedIps.mutationOptions({ onSuccess: onSaved }));
  const problem = allowlistProblem(text);
  const apiFieldError = save.error ? (describeError(save.error).fieldErrors[0]?.message ?? null) : null;

  const submit = () => {
    if (problem) {
      setShowErrors(true);
      return;
    }
    save.mutate({ id: apiKey.id, allowedIps: allowlistLines(text) });
  };

  return (
    <Dialog
      title="Allowed IPs"
      description={
        <>
          Where <strong>{apiKey.name}</strong> <code className="key-hint">{apiKey.hint}</code> may be used
          from. The change takes effect on the next request.
        </>
      }
      onClose={onClose}
      busy={save.isPending}
    >
      <DialogForm
        onSubmit={submit}
        mutation={save}
        errorContext="Couldn’t save the allowed IPs"
        onCancel={onClose}
        submit={['Save', 'Saving…']}
      >
        <AllowedIpsField
          value={text}
          onChange={setText}
          error={(showErrors ? problem : null) ?? apiFieldError}
          autoFocus
        />
      </DialogForm>
    </Dialog>
  );
}
