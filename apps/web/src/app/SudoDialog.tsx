import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState, useSyncExternalStore } from 'react';
import { Dialog, FormFooter } from '../components/Dialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { fieldError, formLevelError } from '../lib/errors.ts';
import type { SudoGate, SudoRequest } from '../lib/sudo.ts';
import { ME_QUERY_KEY, useTRPC } from '../lib/trpc.ts';

/** Shows the "Confirm it’s you" dialog whenever a mutation waits at the gate (see `sudoLink`). */
export function SudoDialogHost({ gate }: { gate: SudoGate }) {
  const request = useSyncExternalStore(gate.subscribe, gate.current);
  if (!request) return null;
  return <SudoDialog request={request} onSettled={(confirmed) => gate.settle(confirmed)} />;
}

function SudoDialog({
  request,
  onSettled,
}: {
  request: SudoRequest;
  onSettled: (confirmed: boolean) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const confirm = useMutation(
    trpc.auth.confirmSudo.mutationOptions({
      onSuccess: () => {
        // The session's window moved: whatever shows it asks again.
        void queryClient.invalidateQueries({ queryKey: ME_QUERY_KEY });
        onSettled(true);
      },
    }),
  );
  const usesPassword = request.acceptedMethods.includes('password');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (usesPassword) confirm.mutate({ password });
  };
  const formError = formLevelError(confirm.error);
  return (
    <Dialog
      title="Confirm it’s you"
      description="This action needs a recent confirmation of who you are. Once confirmed, it goes ahead, and sensitive actions stay open for 10 minutes."
      onClose={() => onSettled(false)}
      busy={confirm.isPending}
      size="small"
    >
      <form onSubmit={submit} noValidate className="form-stack">
        {usesPassword ? (
          <TextField
            label="Password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            data-autofocus
            error={fieldError(confirm.error, 'password')}
          />
        ) : null}
        {formError ? <ErrorNotice error={formError} compact context="Couldn’t confirm" /> : null}
        <FormFooter
          onCancel={() => onSettled(false)}
          pending={confirm.isPending}
          submitLabel="Confirm"
          pendingLabel="Confirming…"
        />
      </form>
    </Dialog>
  );
}
