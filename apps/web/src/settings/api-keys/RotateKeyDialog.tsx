import { ROTATION_GRACE_NAMES, type RotationGrace } from '@crowdee/core/expiry';
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Dialog, FormFooter } from '../../components/Dialog.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { RadioGroup } from '../../components/Field.tsx';
import { type ApiKey, useTRPC } from '../../lib/trpc.ts';

const GRACE_LABELS: Record<RotationGrace, { label: string; description: string }> = {
  now: { label: 'Immediately', description: 'The old key stops working now. Use this if it leaked.' },
  '1h': { label: 'In 1 hour', description: 'Time to swap the key in one place.' },
  '24h': { label: 'In 24 hours', description: 'Time to redeploy everything that uses it.' },
  '7d': { label: 'In 7 days', description: 'For keys spread across many systems.' },
};

interface RotateKeyDialogProps {
  apiKey: ApiKey;
  onClose: () => void;
  onRotated: (secret: string, apiKey: ApiKey, previous: ApiKey) => void;
}

export function RotateKeyDialog({ apiKey, onClose, onRotated }: RotateKeyDialogProps) {
  const trpc = useTRPC();
  const [grace, setGrace] = useState<RotationGrace>('24h');
  const rotate = useMutation(
    trpc.keys.rotate.mutationOptions({
      gcTime: 0,
      onSuccess: (result) => onRotated(result.key, result.apiKey, result.previous),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rotate.mutate({ id: apiKey.id, gracePeriod: grace });
  };
  return (
    <Dialog
      title="Rotate API key"
      description={
        <>
          Replaces <strong>{apiKey.name}</strong> <code className="key-hint">{apiKey.hint}</code> with a new
          key that has the same name, role and organizations. The new key is shown once.
        </>
      }
      onClose={onClose}
      busy={rotate.isPending}
    >
      <form onSubmit={submit} noValidate className="form-stack">
        <RadioGroup<RotationGrace>
          legend="Old key stops working"
          name="grace-period"
          value={grace}
          onChange={setGrace}
          options={ROTATION_GRACE_NAMES.map((g) => ({ value: g, ...GRACE_LABELS[g] }))}
          hint="Never later than the old key would have expired anyway."
        />
        {rotate.error ? <ErrorNotice error={rotate.error} compact context="Couldn’t rotate the key" /> : null}
        <FormFooter
          onCancel={onClose}
          pending={rotate.isPending}
          submitLabel="Rotate key"
          pendingLabel="Rotating…"
        />
      </form>
    </Dialog>
  );
}
