import type { VerificationMethod } from '@crowdee/core/two-factor';
import { startAuthentication } from '@simplewebauthn/browser';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, useSyncExternalStore } from 'react';
import { PasskeyAction } from '../account/PasskeysSection.tsx';
import { passkeysSupported } from '../account/passkeys.ts';
import { Button } from '../components/Button.tsx';
import { Dialog, DialogFooter } from '../components/Dialog.tsx';
import { TextField } from '../components/Field.tsx';
import { DialogForm } from '../components/Form.tsx';
import { fieldError } from '../lib/errors.ts';
import type { SudoGate, SudoRequest } from '../lib/sudo.ts';
import { type RouterInputs, refreshSession, useTRPC, useTRPCClient } from '../lib/trpc.ts';

/** Shows the "Confirm it’s you" dialog whenever a mutation waits at the gate (see `sudoLink`). */
export function SudoDialogHost({ gate }: { gate: SudoGate }) {
  const request = useSyncExternalStore(gate.subscribe, gate.current);
  if (!request) return null;
  return <SudoDialog request={request} onSettled={(confirmed) => gate.settle(confirmed)} />;
}

/** The typed ways of confirming: the API offers a passkey too, which the dialog asks for with its own button. */
type TypedMethod = Exclude<VerificationMethod, 'passkey'>;

function firstTypedMethod(accepted: readonly VerificationMethod[]): TypedMethod | null {
  for (const method of ['password', 'totp', 'recovery-code'] as const)
    if (accepted.includes(method)) return method;
  return null;
}

function proofOf(method: TypedMethod, value: string): RouterInputs['auth']['confirmSudo'] {
  if (method === 'password') return { password: value };
  if (method === 'totp') return { totpCode: value };
  return { recoveryCode: value };
}

function SudoDialog({
  request,
  onSettled,
}: {
  request: SudoRequest;
  onSettled: (confirmed: boolean) => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const accepted = request.acceptedMethods;
  const [method, setMethod] = useState<TypedMethod | null>(() => firstTypedMethod(accepted));
  const [value, setValue] = useState('');
  const confirmed = () => {
    // The session's window moved: whatever shows it asks again.
    void refreshSession(queryClient);
    onSettled(true);
  };
  const confirm = useMutation(trpc.auth.confirmSudo.mutationOptions({ onSuccess: confirmed }));
  // A passkey: this session's own ceremony, the browser's prompt, then the same confirmation.
  const withPasskey = useMutation({
    mutationFn: async () => {
      const { ceremonyId, options } = await client.auth.passkeys.sudoOptions.mutate();
      const response = await startAuthentication({ optionsJSON: options });
      return client.auth.confirmSudo.mutate({ passkey: { ceremonyId, response } });
    },
    onSuccess: confirmed,
  });
  const passkey =
    accepted.includes('passkey') && passkeysSupported() ? (
      <PasskeyAction
        mutation={withPasskey}
        label="Use a passkey"
        errorContext="Couldn’t confirm with the passkey"
      />
    ) : null;
  const submit = () => {
    if (method) confirm.mutate(proofOf(method, value));
  };
  const switchTo = (next: TypedMethod) => {
    setMethod(next);
    setValue('');
    confirm.reset();
  };
  return (
    <Dialog
      title="Confirm it’s you"
      description="This action needs a recent confirmation of who you are. Once confirmed, it goes ahead, and sensitive actions stay open for 10 minutes."
      onClose={() => onSettled(false)}
      busy={confirm.isPending || withPasskey.isPending}
      size="small"
    >
      {method === null ? (
        // Only a passkey is accepted: no form to type into, just the prompt (or why it cannot be used here).
        <>
          {passkey ?? (
            <p>This account can only confirm with a passkey, and this browser cannot use passkeys.</p>
          )}
          <DialogFooter>
            <Button onClick={() => onSettled(false)}>Cancel</Button>
          </DialogFooter>
        </>
      ) : (
        <DialogForm
          onSubmit={submit}
          errorContext="Couldn’t confirm"
          mutation={confirm}
          onCancel={() => onSettled(false)}
          submit={['Confirm', 'Confirming…']}
        >
          {method === 'password' ? (
            <TextField
              key="password"
              label="Password"
              type="password"
              autoComplete="current-password"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              required
              data-autofocus
              error={fieldError(confirm.error, 'password')}
            />
          ) : null}
          {method === 'totp' ? (
            <TextField
              key="totp"
              label="Authentication code"
              hint="The 6-digit code your authenticator app shows now."
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={9}
              autoFocus
              value={value}
              onChange={(e) => setValue(e.target.value)}
              required
              data-autofocus
              error={fieldError(confirm.error, 'totpCode')}
            />
          ) : null}
          {method === 'recovery-code' ? (
            <TextField
              key="recovery-code"
              label="Recovery code"
              hint="One of the codes you saved when you set up the authenticator app. Each works once."
              autoComplete="off"
              spellCheck={false}
              maxLength={40}
              autoFocus
              value={value}
              onChange={(e) => setValue(e.target.value)}
              required
              data-autofocus
              error={fieldError(confirm.error, 'recoveryCode')}
            />
          ) : null}
          {method === 'totp' && accepted.includes('recovery-code') ? (
            <div>
              <button type="button" className="button button-ghost" onClick={() => switchTo('recovery-code')}>
                Use a recovery code
              </button>
            </div>
          ) : null}
          {method === 'recovery-code' && accepted.includes('totp') ? (
            <div>
              <button type="button" className="button button-ghost" onClick={() => switchTo('totp')}>
                Use your authenticator app
              </button>
            </div>
          ) : null}
          {passkey}
        </DialogForm>
      )}
    </Dialog>
  );
}
