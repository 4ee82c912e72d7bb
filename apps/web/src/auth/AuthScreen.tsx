import { startAuthentication } from '@simplewebauthn/browser';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { PasskeyAction } from '../account/PasskeysSection.tsx';
import { passkeysSupported } from '../account/passkeys.ts';
import { Button } from '../components/Button.tsx';
import {
  EMAIL,
  NEW_EMAIL,
  NEW_PASSWORD,
  ONE_TIME_CODE,
  PASSWORD,
  RECOVERY_CODE,
  TextField,
} from '../components/Field.tsx';
import { Form, SubmitButton, useFormFields } from '../components/Form.tsx';
import { describeError, fieldError } from '../lib/errors.ts';
import { Link, usePath } from '../lib/router.tsx';
import { refreshSession, useTRPC, useTRPCClient } from '../lib/trpc.ts';
import { AuthAlternative, AuthLayout, AuthTitle } from './AuthLayout.tsx';

/** Sign in at any path but /sign-up; after signing in the user stays on the page they asked for. */
export function AuthScreen() {
  const signingUp = usePath() === '/sign-up';
  return (
    <AuthLayout
      title={signingUp ? 'Create your account' : 'Sign in'}
      footer="API access for your organization: keys, members and an audit trail."
    >
      {signingUp ? <SignUpForm /> : <SignInForm />}
    </AuthLayout>
  );
}

function useSignedIn() {
  const queryClient = useQueryClient();
  return () => refreshSession(queryClient);
}

/** After a correct password, an account with a second factor answers this challenge before it gets a session. */
interface SignInChallenge {
  challengeToken: string;
  methods: readonly string[];
}

function SignInForm() {
  const trpc = useTRPC();
  const onSignedIn = useSignedIn();
  const [challenge, setChallenge] = useState<SignInChallenge | null>(null);
  /** Why the second step went back to the password (the challenge expired or was used up). */
  const [restartReason, setRestartReason] = useState<unknown>(null);
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: (result) => {
        if (result.status === 'second-factor-required') {
          setChallenge({ challengeToken: result.challengeToken, methods: result.methods });
          return;
        }
        return onSignedIn();
      },
    }),
  );
  const form = useFormFields({ email: '', password: '' }, signIn.error);

  if (challenge) {
    return (
      <SecondFactorForm
        challenge={challenge}
        onSignedIn={onSignedIn}
        onRestart={(reason) => {
          setChallenge(null);
          form.set({ password: '' });
          signIn.reset();
          setRestartReason(reason);
        }}
      />
    );
  }

  return (
    <>
      <Form
        className="auth-form"
        onSubmit={() => {
          setRestartReason(null);
          signIn.mutate(form.values);
        }}
        // A restarted sign-in says why (the second step's challenge expired or ran out of answers).
        error={signIn.error ?? restartReason}
        errorContext="Couldn’t sign in"
        actions={
          <>
            <p className="auth-subtitle">
              <Link to="/forgot-password">Forgot password?</Link>
            </p>
            <SubmitButton block pending={signIn.isPending} label="Sign in" pendingLabel="Signing in…" />
          </>
        }
      >
        <AuthTitle>Sign in</AuthTitle>
        <p className="auth-subtitle">
          New to Crowdee? <Link to="/sign-up">Create an account</Link>
        </p>
        <TextField label="Email" {...EMAIL} {...form.field('email')} />
        <TextField label="Password" {...PASSWORD} {...form.field('password')} />
      </Form>
      <PasskeySignIn />
    </>
  );
}

/**
 * Passwordless: the browser offers the passkeys it holds for this site; the one chosen names the account, and
 * the device verifies its user (fingerprint, face, PIN). No email to type.
 */
function PasskeySignIn() {
  const client = useTRPCClient();
  const onSignedIn = useSignedIn();
  const signIn = useMutation({
    mutationFn: async () => {
      const { ceremonyId, options } = await client.auth.passkeys.signInOptions.mutate();
      const response = await startAuthentication({ optionsJSON: options });
      return client.auth.passkeys.signIn.mutate({ ceremonyId, response });
    },
    onSuccess: onSignedIn,
  });
  if (!passkeysSupported()) return null;
  return (
    <AuthAlternative>
      <PasskeyAction
        mutation={signIn}
        label="Sign in with a passkey"
        errorContext="Couldn’t sign in with a passkey"
      />
    </AuthAlternative>
  );
}

/** The second step's forms: the password's challenge, and where they go next. */
interface SecondStepProps {
  challenge: SignInChallenge;
  onSignedIn: () => unknown;
  /** Back to the password, with the reason (null when the user chose to). */
  onRestart: (reason: unknown) => void;
}

/** A challenge that expired or took too many answers cannot be answered again: start over from the password. */
function restartWhenChallengeEnds(onRestart: SecondStepProps['onRestart']) {
  return (error: unknown) => {
    if (describeError(error).code === 'SIGN_IN_CHALLENGE_INVALID') onRestart(error);
  };
}

/**
 * The second step: a code from the authenticator app, or one of the recovery codes. A challenge that expired or
 * took too many answers sends the user back to the password with the reason.
 */
function SecondFactorForm({ challenge, onSignedIn, onRestart }: SecondStepProps) {
  const trpc = useTRPC();
  const [mode, setMode] = useState<'totp' | 'recovery-code'>(
    challenge.methods.includes('totp') ? 'totp' : 'recovery-code',
  );
  const [code, setCode] = useState('');
  const complete = useMutation(
    trpc.auth.completeSignIn.mutationOptions({
      onSuccess: () => onSignedIn(),
      onError: restartWhenChallengeEnds(onRestart),
    }),
  );
  const submit = () => {
    complete.mutate(
      mode === 'totp'
        ? { challengeToken: challenge.challengeToken, totpCode: code }
        : { challengeToken: challenge.challengeToken, recoveryCode: code },
    );
  };
  const switchTo = (next: 'totp' | 'recovery-code') => {
    setMode(next);
    setCode('');
    complete.reset();
  };
  const canUseTotp = challenge.methods.includes('totp');
  const canUseRecovery = challenge.methods.includes('recovery-code');
  const passkey = challenge.methods.includes('passkey') ? (
    <PasskeySecondStep challenge={challenge} onSignedIn={onSignedIn} onRestart={onRestart} />
  ) : null;

  if (!canUseTotp && !canUseRecovery) {
    // Passkeys are this account's only second factor.
    return (
      <div className="auth-form">
        <AuthTitle>Two-step verification</AuthTitle>
        <p className="auth-subtitle">Confirm it’s you with one of your passkeys.</p>
        {passkey}
        <div className="form-actions">
          <Button variant="ghost" onClick={() => onRestart(null)}>
            Back to sign in
          </Button>
        </div>
      </div>
    );
  }

  return (
    <>
      <Form
        className="auth-form"
        onSubmit={submit}
        error={complete.error}
        errorContext="Couldn’t sign in"
        actions={
          <>
            <SubmitButton block pending={complete.isPending} label="Verify" pendingLabel="Checking…" />
            <div className="form-actions">
              {mode === 'totp' && canUseRecovery ? (
                <Button variant="ghost" onClick={() => switchTo('recovery-code')}>
                  Use a recovery code
                </Button>
              ) : null}
              {mode === 'recovery-code' && canUseTotp ? (
                <Button variant="ghost" onClick={() => switchTo('totp')}>
                  Use your authenticator app
                </Button>
              ) : null}
              <Button variant="ghost" onClick={() => onRestart(null)}>
                Back to sign in
              </Button>
            </div>
          </>
        }
      >
        <AuthTitle>Two-step verification</AuthTitle>
        <TextField
          // A new field per mode: it starts empty and takes the focus.
          key={mode}
          {...(mode === 'totp'
            ? { label: 'Enter the 6-digit code from your authenticator app', ...ONE_TIME_CODE }
            : { label: 'Enter one of your recovery codes', ...RECOVERY_CODE })}
          autoFocus
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={fieldError(complete.error, mode === 'totp' ? 'totpCode' : 'recoveryCode')}
        />
      </Form>
      {passkey ? <AuthAlternative>{passkey}</AuthAlternative> : null}
    </>
  );
}

/** The second step answered with one of the account's passkeys (the browser offers only those). */
function PasskeySecondStep({ challenge, onSignedIn, onRestart }: SecondStepProps) {
  const client = useTRPCClient();
  const verify = useMutation({
    mutationFn: async () => {
      const { challengeToken } = challenge;
      const { ceremonyId, options } = await client.auth.passkeys.signInOptions.mutate({ challengeToken });
      const response = await startAuthentication({ optionsJSON: options });
      return client.auth.passkeys.signIn.mutate({ ceremonyId, response, challengeToken });
    },
    onSuccess: () => onSignedIn(),
    onError: restartWhenChallengeEnds(onRestart),
  });
  if (!passkeysSupported()) return <p className="auth-subtitle">This browser cannot use passkeys.</p>;
  return (
    <PasskeyAction mutation={verify} label="Use a passkey" errorContext="Couldn’t sign in with the passkey" />
  );
}

function SignUpForm() {
  const trpc = useTRPC();
  const onSignedIn = useSignedIn();
  const signUp = useMutation(trpc.auth.signUp.mutationOptions({ onSuccess: onSignedIn }));
  const form = useFormFields({ name: '', email: '', password: '' }, signUp.error);
  return (
    <Form
      className="auth-form"
      onSubmit={() => signUp.mutate({ ...form.values, name: form.values.name.trim() })}
      error={signUp.error}
      errorContext="Couldn’t create your account"
      actions={
        <SubmitButton
          block
          pending={signUp.isPending}
          label="Create account"
          pendingLabel="Creating account…"
        />
      }
    >
      <AuthTitle>Create your account</AuthTitle>
      <p className="auth-subtitle">
        Already have an account? <Link to="/sign-in">Sign in</Link>
      </p>
      <TextField label="Name" autoComplete="name" maxLength={200} required {...form.field('name')} />
      <TextField label="Email" {...NEW_EMAIL} {...form.field('email')} />
      <TextField label="Password" {...NEW_PASSWORD} {...form.field('password')} />
    </Form>
  );
}
