import type { ReactNode } from 'react';
import { Dialog, DialogFooter } from './Dialog.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  pending: boolean;
  error: unknown;
}

/** A destructive action, confirmed: Cancel has focus first so Enter never destroys by accident. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
  pending,
  error,
}: ConfirmDialogProps) {
  return (
    <Dialog
      title={title}
      role="alertdialog"
      size="small"
      onClose={onClose}
      busy={pending}
      description={children}
    >
      {error ? <ErrorNotice error={error} compact /> : null}
      <DialogFooter>
        <button
          type="button"
          className="button button-secondary"
          onClick={onClose}
          disabled={pending}
          data-autofocus
        >
          Cancel
        </button>
        <button type="button" className="button button-danger" onClick={onConfirm} disabled={pending}>
          {pending ? 'Working…' : confirmLabel}
        </button>
      </DialogFooter>
    </Dialog>
  );
}
