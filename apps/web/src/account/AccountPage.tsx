import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { useSession } from '../app/session.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { TextField } from '../components/Field.tsx';
import { fieldError, formLevelError } from '../lib/errors.ts';
import { ME_QUERY_KEY, useTRPC } from '../lib/trpc.ts';

export function AccountPage() {
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>Account</h1>
        <p className="page-description">Your sign-in details.</p>
      </header>
      <ChangePasswordCard />
      <ChangeEmailCard />
    </div>
  );
}

function ChangePasswordCard() {
  const trpc = useTRPC();
  const headingId = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: () => {
        setCurrent('');
        setNext('');
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate({ currentPassword: current, newPassword: next });
  };
  const formError = formLevelError(change.error);
  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            Change password
          </h2>
          <p className="card-description">
            Every other session of your account is signed out; this one stays. API keys are separate
            credentials: a password change does not touch them (revoke or rotate them on the API keys page).
          </p>
        </div>
      </div>
      <form className="card-body form-stack" onSubmit={submit} noValidate>
        <TextField
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          required
          error={fieldError(change.error, 'currentPassword')}
        />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          required
          error={fieldError(change.error, 'newPassword')}
        />
        {formError ? <ErrorNotice error={formError} compact context="Couldn’t change the password" /> : null}
        <div>
          <button type="submit" className="button button-primary" disabled={change.isPending}>
            {change.isPending ? 'Changing…' : 'Change password'}
          </button>
        </div>
        <output className="form-status" aria-live="polite">
          {change.isSuccess
            ? `Password changed. ${change.data.endedSessions} other ${change.data.endedSessions === 1 ? 'session was' : 'sessions were'} signed out.`
            : ''}
        </output>
      </form>
    </section>
  );
}

function ChangeEmailCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { user } = useSession();
  const headingId = useId();
  const me = useQuery(trpc.auth.session.queryOptions());
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const change = useMutation(
    trpc.auth.changeEmail.mutationOptions({
      onSuccess: () => {
        setPassword('');
        return queryClient.invalidateQueries({ queryKey: ME_QUERY_KEY });
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate({ email, currentPassword: password });
  };
  const pending = me.data?.pendingEmail ?? null;
  const formError = formLevelError(change.error);
  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            Email address
          </h2>
          <p className="card-description">
            You sign in and receive invitations at {user.email}. A new address takes effect once you follow
            the link we mail to it.
            {pending ? ` Waiting for ${pending} to be confirmed.` : ''}
          </p>
        </div>
      </div>
      <form className="card-body form-stack" onSubmit={submit} noValidate>
        <TextField
          label="New email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          error={fieldError(change.error, 'email')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          error={fieldError(change.error, 'currentPassword')}
        />
        {formError ? <ErrorNotice error={formError} compact context="Couldn’t change the address" /> : null}
        <div>
          <button type="submit" className="button button-secondary" disabled={change.isPending}>
            {change.isPending ? 'Sending…' : 'Change email'}
          </button>
        </div>
      </form>
    </section>
  );
}
