import { ROTATION_GRACE_NAMES, type RotationGrace } from '@crowdee/core/expiry';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Dialog } from '../../components/Dialog.tsx';
import { RadioGroup } from '../../components/Field.tsx';
import { DialogForm } from '../../components/Form.tsx';
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
      <DialogForm
        onSubmit={() => rotate.mutate({ id: apiKey.id, gracePeriod: grace })}
        showAllErrors
        errorContext="Couldn’t rotate the key"
        mutation={rotate}
        onCancel={onClose}
        submit={['Rotate key', 'Rotating…']}
      >
        <RadioGroup<RotationGrace>
          legend="Old key stops working"
          name="grace-period"
          value={grace}
          onChange={setGrace}
          options={ROTATION_GRACE_NAMES.map((g) => ({ value: g, ...GRACE_LABELS[g] }))}
          hint="Never later than the old key would have expired anyway."
        />
      </DialogForm>
    </Dialog>
  );
}
