import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { QuerySection } from '../components/QuerySection.tsx';
import { fieldError, formLevelError } from '../lib/errors.ts';
import { formatDate } from '../lib/format.ts';
import { type RouterOutputs, useTRPC } from '../lib/trpc.ts';
import { PasskeysSection } from './PasskeysSection.tsx';

type TotpStatus = RouterOutputs['auth']['totp']['status'];
type Enrolment = RouterOutputs['auth']['totp']['beginEnrolment'];

export function SecurityPage() {
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>Security</h1>
        <p className="page-description">
          A second factor keeps your account safe even if your password leaks: sign-in asks for it after the
          password, and so do sensitive actions.
        </p>
      </header>
      <PasskeysSection />
      <AuthenticatorAppSection />
    </div>
  );
}

/**
 * What the section shows besides the status: a set-up in progress (QR code and secret, held only in this
 * component's state), or recovery codes just made (shown once, dropped on "I saved them").
 */
type Step = { kind: 'enrolling'; enrolment: Enrolment } | { kind: 'codes'; codes: string[] } | null;

function AuthenticatorAppSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const headingId = useId();
  const status = useQuery(trpc.auth.totp.status.queryOptions());
  const [step, setStep] = useState<Step>(null);
  const [confirmOff, setConfirmOff] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries(trpc.auth.totp.status.pathFilter());

  const begin = useMutation(
    trpc.auth.totp.beginEnrolment.mutationOptions({
      // The secret must not outlive the set-up panel in some cache.
      gcTime: 0,
      onSuccess: (enrolment) => {
        setDone(null);
        setStep({ kind: 'enrolling', enrolment });
      },
    }),
  );
  const regenerate = useMutation(
    trpc.auth.totp.regenerateRecoveryCodes.mutationOptions({
      gcTime: 0,
      onSuccess: async (result) => {
        setDone(null);
        setStep({ kind: 'codes', codes: result.recoveryCodes });
        await refresh();
      },
    }),
  );
  const disable = useMutation(
    trpc.auth.totp.disable.mutationOptions({
      onSuccess: async (result) => {
        setConfirmOff(false);
        setStep(null);
        setDone(
          `Authenticator app turned off.${result.endedSessions > 0 ? ` ${result.endedSessions} other ${result.endedSessions === 1 ? 'session was' : 'sessions were'} signed out.` : ''}`,
        );
        await refresh();
      },
    }),
  );

  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            Authenticator app
          </h2>
          <p className="card-description">
            Use an app such as Google Authenticator, 1Password or Authy to get a new 6-digit code every 30
            seconds. Turning it on, off or making new recovery codes signs out your other sessions.
          </p>
        </div>
      </div>
      <div className="card-body form-stack">
        <QuerySection
          query={status}
          items={status.data ? [status.data] : undefined}
          loading="Loading your authenticator app…"
          errorContext="Couldn’t load your authenticator app"
          empty=""
        >
          {([current]) =>
            step?.kind === 'enrolling' ? (
              <EnrolmentForm
                enrolment={step.enrolment}
                onConfirmed={async (codes) => {
                  setStep({ kind: 'codes', codes });
                  await refresh();
                }}
                onCancel={() => setStep(null)}
              />
            ) : step?.kind === 'codes' ? (
              <RecoveryCodes
                codes={step.codes}
                onSaved={() => {
                  setStep(null);
                  setDone('Your authenticator app is on. Sign-in will ask for a code after your password.');
                }}
              />
            ) : current ? (
              <StatusView
                status={current}
                onSetUp={() => begin.mutate()}
                settingUp={begin.isPending}
                onRegenerate={() => regenerate.mutate()}
                regenerating={regenerate.isPending}
                onTurnOff={() => {
                  disable.reset();
                  setConfirmOff(true);
                }}
              />
            ) : null
          }
        </QuerySection>
        {begin.error ? <ErrorNotice error={begin.error} compact context="Couldn’t start the set-up" /> : null}
        {regenerate.error ? (
          <ErrorNotice error={regenerate.error} compact context="Couldn’t make new recovery codes" />
        ) : null}
        <output className="form-status" aria-live="polite">
          {done ?? ''}
        </output>
      </div>
      {confirmOff ? (
        <ConfirmDialog
          title="Turn off the authenticator app?"
          confirmLabel="Turn off"
          onConfirm={() => disable.mutate()}
          onClose={() => setConfirmOff(false)}
          pending={disable.isPending}
          error={disable.error}
        >
          Sign-in will ask only for your password, your recovery codes stop working, and your other sessions
          are signed out.
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function StatusView({
  status,
  onSetUp,
  settingUp,
  onRegenerate,
  regenerating,
  onTurnOff,
}: {
  status: TotpStatus;
  onSetUp: () => void;
  settingUp: boolean;
  onRegenerate: () => void;
  regenerating: boolean;
  onTurnOff: () => void;
}) {
  if (!status.enabled) {
    return (
      <>
        <p>Not set up: sign-in asks only for your password.</p>
        <div>
          <button type="button" className="button button-primary" onClick={onSetUp} disabled={settingUp}>
            {settingUp ? 'Starting…' : 'Set up'}
          </button>
        </div>
      </>
    );
  }
  const left = status.recoveryCodesRemaining;
  return (
    <>
      <p>
        <strong>On</strong>
        {status.confirmedAt ? ` since ${formatDate(status.confirmedAt)}` : ''}. {left} recovery{' '}
        {left === 1 ? 'code' : 'codes'} left.
      </p>
      <div className="form-actions">
        <button
          type="button"
          className="button button-secondary"
          onClick={onRegenerate}
          disabled={regenerating}
        >
          {regenerating ? 'Making codes…' : 'Regenerate recovery codes'}
        </button>
        <button type="button" className="button button-danger" onClick={onTurnOff}>
          Turn off
        </button>
      </div>
    </>
  );
}

function EnrolmentForm({
  enrolment,
  onConfirmed,
  onCancel,
}: {
  enrolment: Enrolment;
  onConfirmed: (codes: string[]) => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const secretId = useId();
  const [code, setCode] = useState('');
  const confirm = useMutation(
    trpc.auth.totp.confirmEnrolment.mutationOptions({
      gcTime: 0,
      onSuccess: (result) => onConfirmed(result.recoveryCodes),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    confirm.mutate({ code });
  };
  const formError = formLevelError(confirm.error);
  return (
    <form className="form-stack" onSubmit={submit} noValidate>
      <p>1. Scan this QR code with your authenticator app.</p>
      <img
        className="totp-qr"
        src={enrolment.qrCodeDataUrl}
        alt="QR code for your authenticator app"
        width={240}
        height={240}
      />
      <div className="field">
        <label htmlFor={secretId} className="field-label">
          Can’t scan it? Enter this key in the app instead
        </label>
        <input
          id={secretId}
          className="input input-mono"
          value={enrolment.secret}
          readOnly
          spellCheck={false}
          autoComplete="off"
          onFocus={(e) => e.currentTarget.select()}
        />
      </div>
      <TextField
        label="2. Enter the 6-digit code the app shows"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={9}
        value={code}
        onChange={(e) => setCode(e.target.value)}
        required
        error={fieldError(confirm.error, 'code')}
      />
      {formError ? <ErrorNotice error={formError} compact context="Couldn’t turn it on" /> : null}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={confirm.isPending}>
          {confirm.isPending ? 'Checking…' : 'Turn on'}
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={onCancel}
          disabled={confirm.isPending}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}

type CopyState = 'idle' | 'copied' | 'manual';

/** The one time recovery codes are in the page: copied, downloaded, then dropped with "I saved them". */
function RecoveryCodes({ codes, onSaved }: { codes: string[]; onSaved: () => void }) {
  const listRef = useRef<HTMLOListElement>(null);
  const warningId = useId();
  const [copy, setCopy] = useState<CopyState>('idle');
  const text = `${codes.join('\n')}\n`;
  const copyCodes = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopy('copied');
    } catch {
      // Clipboard refused: select the list for a manual copy.
      const list = listRef.current;
      const selection = window.getSelection();
      if (list && selection) selection.selectAllChildren(list);
      setCopy('manual');
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'crowdee-recovery-codes.txt';
    link.click();
    URL.revokeObjectURL(url);
  };
  return (
    <div className="form-stack">
      <div id={warningId} className="notice notice-warning">
        <div className="notice-content">
          <p className="notice-title">Save these recovery codes now. They will not be shown again.</p>
          <p className="notice-message">
            Each works once, instead of a code from the app, if you lose your phone. We store only their
            hashes.
          </p>
        </div>
      </div>
      <ol ref={listRef} className="recovery-codes" aria-label="Recovery codes" aria-describedby={warningId}>
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="form-actions">
        <button type="button" className="button button-secondary" onClick={copyCodes}>
          {copy === 'copied' ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="button button-secondary" onClick={download}>
          Download
        </button>
        <button type="button" className="button button-primary" onClick={onSaved}>
          I saved them
        </button>
      </div>
      <output className="field-hint" aria-live="polite">
        {copy === 'copied'
          ? 'Copied to the clipboard.'
          : copy === 'manual'
            ? 'The codes are selected: press Ctrl+C (⌘C on a Mac) to copy them.'
            : ''}
      </output>
    </div>
  );
}
