import { type ReactNode, useId, useLayoutEffect, useRef } from 'react';

interface DialogProps {
  title: string;
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  /** `alertdialog` for confirmations of destructive actions. */
  role?: 'dialog' | 'alertdialog';
  size?: 'small' | 'medium' | 'large';
  /** While true, Escape does nothing (e.g. a request is in flight). */
  busy?: boolean;
}

/**
 * A modal on the native <dialog> element: `showModal()` makes the rest of the page inert, traps focus and turns
 * Escape into a `cancel` event. On open, focus goes to the element marked `data-autofocus` (else the first
 * focusable one); on close it returns to whatever opened the dialog, or to the page heading if that is gone.
 */
export function Dialog({
  title,
  description,
  onClose,
  children,
  role = 'dialog',
  size = 'medium',
  busy,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    return () => {
      if (dialog.open) dialog.close();
      const target = opener?.isConnected ? opener : document.querySelector<HTMLElement>('main h1');
      target?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={`dialog dialog-${size}`}
      role={role === 'alertdialog' ? 'alertdialog' : undefined}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      onCancel={(event) => {
        // Escape: let React decide, so the dialog never closes behind the state that renders it.
        event.preventDefault();
        if (!busy) onCloseRef.current();
      }}
      onClose={() => {
        // `close` is dispatched asynchronously: after our own cleanup's close() (StrictMode remounts in
        // development) the dialog is open again and this is stale. Only a dialog still closed was closed by the
        // browser (e.g. Chrome's close watcher on a repeated Escape), and React must follow.
        if (!ref.current?.open) onCloseRef.current();
      }}
    >
      <div className="dialog-header">
        <h2 id={titleId} className="dialog-title">
          {title}
        </h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose} disabled={busy}>
          <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
          </svg>
        </button>
      </div>
      {description ? (
        <div id={descriptionId} className="dialog-description">
          {description}
        </div>
      ) : null}
      <div className="dialog-body">{children}</div>
    </dialog>
  );
}

export function DialogFooter({ children }: { children: ReactNode }) {
  return <div className="dialog-footer">{children}</div>;
}

/** Cancel and submit for a dialog's form; both are disabled while the submission is pending. */
export function FormFooter({
  onCancel,
  pending,
  submitLabel,
  pendingLabel,
}: {
  onCancel: () => void;
  pending: boolean;
  submitLabel: string;
  pendingLabel: string;
}) {
  return (
    <DialogFooter>
      <button type="button" className="button button-secondary" onClick={onCancel} disabled={pending}>
        Cancel
      </button>
      <button type="submit" className="button button-primary" disabled={pending}>
        {pending ? pendingLabel : submitLabel}
      </button>
    </DialogFooter>
  );
}
