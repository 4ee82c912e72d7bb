import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { fieldError, formLevelError } from '../lib/errors.ts';
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

function SignInForm() {
  const trpc = useTRPC();
  const onSignedIn = useSignedIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation(trpc.auth.signIn.mutationOptions({ onSuccess: onSignedIn }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email, password });
  };
  const formError = formLevelError(signIn.error);

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
