import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { describeError, fieldError, formLevelError } from '../lib/errors.ts';
import { Link, usePath } from '../lib/router.tsx';
import { ME_QUERY_KEY, useTRPC } from '../lib/trpc.ts';

/** Sign in at any path but /sign-up; after signing in the user stays on the page they asked for. */
export function AuthScreen() {
  const path = usePath();
  const signingUp = path === '/sign-up';
  useEffect(() => {
    document.title = signingUp ? 'Create your account · Crowdee' : 'Sign in · Crowdee';
  }, [signingUp]);

  return (
    <div className="auth">
      <main className="auth-card">
        <div className="auth-brand">
          <span className="brand-mark" aria-hidden="true">
            C
          </span>
          <span className="brand-name">Crowdee</span>
        </div>
        {signingUp ? <SignUpForm /> : <SignInForm />}
      </main>
      <footer className="auth-footnote">
        API access for your organization: keys, members and an audit trail.
      </footer>
    </div>
  );
}

function useSignedIn() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: ME_QUERY_KEY });
}

/** After a correct password, an account with a second factor answers this challenge before it gets a session. */
interface SignInChallenge {
  challengeToken: string;
  methods: readonly string[];
}

function SignInForm() {
  const trpc = useTRPC();
  const onSignedIn = useSignedIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
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
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRestartReason(null);
    signIn.mutate({ email, password });
  };
  const formError = formLevelError(signIn.error) ?? restartReason;

  if (challenge) {
    return (
      <SecondFactorForm
        challenge={challenge}
        onSignedIn={onSignedIn}
        onRestart={(reason) => {
          setChallenge(null);
          setPassword('');
          signIn.reset();
          setRestartReason(reason);
        }}
      />
    );
  }

  return (
    <form className="auth-form" onSubmit={submit} noValidate>
      <h1 className="auth-title" tabIndex={-1}>
        Sign in
      </h1>
      <p className="auth-subtitle">
        New to Crowdee? <Link to="/sign-up">Create an account</Link>
      </p>
      <TextField
        label="Email"
        type="email"
        autoComplete="username"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        required
        error={fieldError(signIn.error, 'email')}
      />
      <TextField
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        error={fieldError(signIn.error, 'password')}
      />
      {formError ? <ErrorNotice error={formError} compact context="Couldn’t sign in" /> : null}
      <p className="auth-subtitle">
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
      <button type="submit" className="button button-primary button-block" disabled={signIn.isPending}>
        {signIn.isPending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

/**
 * The second step: a code from the authenticator app, or one of the recovery codes. A challenge that expired or
 * took too many answers sends the user back to the password with the reason.
 */
function SecondFactorForm({
  challenge,
  onSignedIn,
  onRestart,
}: {
  challenge: SignInChallenge;
  onSignedIn: () => unknown;
  onRestart: (reason: unknown) => void;
}) {
  const trpc = useTRPC();
  const [mode, setMode] = useState<'totp' | 'recovery-code'>(
    challenge.methods.includes('totp') ? 'totp' : 'recovery-code',
  );
  const [code, setCode] = useState('');
  const complete = useMutation(
    trpc.auth.completeSignIn.mutationOptions({
      onSuccess: () => onSignedIn(),
      onError: (error) => {
        if (describeError(error).code === 'SIGN_IN_CHALLENGE_INVALID') onRestart(error);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
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
  const formError = formLevelError(complete.error);
  const canUseTotp = challenge.methods.includes('totp');
  const canUseRecovery = challenge.methods.includes('recovery-code');

  return (
    <form className="auth-form" onSubmit={submit} noValidate>
      <h1 className="auth-title" tabIndex={-1}>
        Two-step verification
      </h1>
      {mode === 'totp' ? (
        <TextField
          key="totp"
          label="Enter the 6-digit code from your authenticator app"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={9}
          autoFocus
          value={code}
          onChange={(e) => setCode(e.target.value)}
          required
          error={fieldError(complete.error, 'totpCode')}
        />
      ) : (
        <TextField
          key="recovery-code"
          label="Enter one of your recovery codes"
          autoComplete="off"
          spellCheck={false}
          maxLength={40}
          autoFocus
          value={code}
          onChange={(e) => setCode(e.target.value)}
          required
          error={fieldError(complete.error, 'recoveryCode')}
        />
      )}
      {formError ? <ErrorNotice error={formError} compact context="Couldn’t sign in" /> : null}
      <button type="submit" className="button button-primary button-block" disabled={complete.isPending}>
        {complete.isPending ? 'Checking…' : 'Verify'}
      </button>
      <div className="form-actions">
        {mode === 'totp' && canUseRecovery ? (
          <button type="button" className="button button-ghost" onClick={() => switchTo('recovery-code')}>
            Use a recovery code
          </button>
        ) : null}
        {mode === 'recovery-code' && canUseTotp ? (
          <button type="button" className="button button-ghost" onClick={() => switchTo('totp')}>
            Use your authenticator app
          </button>
        ) : null}
        <button type="button" className="button button-ghost" onClick={() => onRestart(null)}>
          Back to sign in
        </button>
      </div>
    </form>
  );
}

function SignUpForm() {
  const trpc = useTRPC();
  const onSignedIn = useSignedIn();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signUp = useMutation(trpc.auth.signUp.mutationOptions({ onSuccess: onSignedIn }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signUp.mutate({ name: name.trim(), email, password });
  };
  const formError = formLevelError(signUp.error);

  return (
    <form className="auth-form" onSubmit={submit} noValidate>
      <h1 className="auth-title" tabIndex={-1}>
        Create your account
      </h1>
      <p className="auth-subtitle">
        Already have an account? <Link to="/sign-in">Sign in</Link>
      </p>
      <TextField
        label="Name"
        autoComplete="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        maxLength={200}
        required
        error={fieldError(signUp.error, 'name')}
      />
      <TextField
        label="Email"
        type="email"
        autoComplete="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        required
        error={fieldError(signUp.error, 'email')}
      />
      <TextField
        label="Password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        error={fieldError(signUp.error, 'password')}
      />
      {formError ? <ErrorNotice error={formError} compact context="Couldn’t create your account" /> : null}
      <button type="submit" className="button button-primary button-block" disabled={signUp.isPending}>
        {signUp.isPending ? 'Creating account…' : 'Create account'}
      </button>
    </form>
  );
}
