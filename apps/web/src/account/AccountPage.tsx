import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSession } from '../app/session.tsx';
import { Card } from '../components/Card.tsx';
import { TextField } from '../components/Field.tsx';
import { Form, SubmitButton } from '../components/Form.tsx';
import { Page } from '../components/Page.tsx';
import { fieldError } from '../lib/errors.ts';
import { ME_QUERY_KEY, useTRPC } from '../lib/trpc.ts';

export function AccountPage() {
  return (
    <Page title="Account" description="Your sign-in details.">
      <ChangePasswordCard />
      <ChangeEmailCard />
    </Page>
  );
}

function ChangePasswordCard() {
  const trpc = useTRPC();
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
  return (
    <Card
      title="Change password"
      description="Every other session of your account is signed out; this one stays. API keys are separate credentials: a password change does not touch them (revoke or rotate them on the API keys page)."
    >
      <Form
        className="card-body form-stack"
        onSubmit={() => change.mutate({ currentPassword: current, newPassword: next })}
        error={change.error}
        errorContext="Couldn’t change the password"
        actions={
          <>
            <div>
              <SubmitButton pending={change.isPending} label="Change password" pendingLabel="Changing…" />
            </div>
            <output className="form-status" aria-live="polite">
              {change.isSuccess
                ? `Password changed. ${change.data.endedSessions} other ${change.data.endedSessions === 1 ? 'session was' : 'sessions were'} signed out.`
                : ''}
            </output>
          </>
        }
      >
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
      </Form>
    </Card>
  );
}

function ChangeEmailCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { user } = useSession();
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
  const pending = me.data?.pendingEmail ?? null;
  return (
    <Card
      title="Email address"
      description={`You sign in and receive invitations at ${user.email}. A new address takes effect once you follow the link we mail to it.${pending ? ` Waiting for ${pending} to be confirmed.` : ''}`}
    >
      <Form
        className="card-body form-stack"
        onSubmit={() => change.mutate({ email, currentPassword: password })}
        error={change.error}
        errorContext="Couldn’t change the address"
        actions={
          <div>
            <SubmitButton
              pending={change.isPending}
              label="Change email"
              pendingLabel="Sending…"
              variant="secondary"
            />
          </div>
        }
      >
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
      </Form>
    </Card>
  );
}
