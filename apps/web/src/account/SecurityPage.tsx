import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { Button } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { CopyStatus, useCopy } from '../components/Copy.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { ONE_TIME_CODE, TextField } from '../components/Field.tsx';
import { Form, SubmitButton, useFormFields } from '../components/Form.tsx';
import { Page } from '../components/Page.tsx';
import { QuerySection } from '../components/QuerySection.tsx';
import { ActionStatus } from '../components/Status.tsx';
import { formatDate } from '../lib/format.ts';
import { type RouterOutputs, useTRPC } from '../lib/trpc.ts';
import { PasskeysSection, signedOut } from './PasskeysSection.tsx';

type TotpStatus = RouterOutputs['auth']['totp']['status'];
type Enrolment = RouterOutputs['auth']['totp']['beginEnrolment'];

export function SecurityPage() {
  return (
    <Page
      title="Security"
      description="A second factor keeps your account safe even if your password leaks: sign-in asks for it after the password, and so do sensitive actions."
    >
      <PasskeysSection />
      <AuthenticatorAppSection />
    </Page>
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
        setDone(`Authenticator app turned off.${signedOut(result.endedSessions)}`);
        await refresh();
      },
    }),
  );

  return (
    <Card
      title="Authenticator app"
      description="Use an app such as Google Authenticator, 1Password or Authy to get a new 6-digit code every 30 seconds. Turning it on, off or making new recovery codes signs out your other sessions."
    >
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
        <ActionStatus message={done} reserve />
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
    </Card>
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
          <Button variant="primary" onClick={onSetUp} disabled={settingUp}>
            {settingUp ? 'Starting…' : 'Set up'}
          </Button>
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
        <Button onClick={onRegenerate} disabled={regenerating}>
          {regenerating ? 'Making codes…' : 'Regenerate recovery codes'}
        </Button>
        <Button variant="danger" onClick={onTurnOff}>
          Turn off
        </Button>
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
  const confirm = useMutation(
    trpc.auth.totp.confirmEnrolment.mutationOptions({
      gcTime: 0,
      onSuccess: (result) => onConfirmed(result.recoveryCodes),
    }),
  );
  const form = useFormFields({ code: '' }, confirm.error);
  return (
    <Form
      className="form-stack"
      onSubmit={() => confirm.mutate(form.values)}
      error={confirm.error}
      errorContext="Couldn’t turn it on"
      actions={
        <div className="form-actions">
          <SubmitButton pending={confirm.isPending} label="Turn on" pendingLabel="Checking…" />
          <Button onClick={onCancel} disabled={confirm.isPending}>
            Cancel
          </Button>
        </div>
      }
    >
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
      <TextField label="2. Enter the 6-digit code the app shows" {...ONE_TIME_CODE} {...form.field('code')} />
    </Form>
  );
}

/** The one time recovery codes are in the page: copied, downloaded, then dropped with "I saved them". */
function RecoveryCodes({ codes, onSaved }: { codes: string[]; onSaved: () => void }) {
  const listRef = useRef<HTMLOListElement>(null);
  const warningId = useId();
  const text = `${codes.join('\n')}\n`;
  const copy = useCopy(text, () => {
    const list = listRef.current;
    const selection = window.getSelection();
    if (list && selection) selection.selectAllChildren(list);
  });
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
        <Button onClick={copy.copy}>{copy.label}</Button>
        <Button onClick={download}>Download</Button>
        <Button variant="primary" onClick={onSaved}>
          I saved them
        </Button>
      </div>
      <CopyStatus state={copy.state} what="codes" />
    </div>
  );
}
