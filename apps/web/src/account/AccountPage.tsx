import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../app/session.tsx';
import { Card } from '../components/Card.tsx';
import { NEW_EMAIL, NEW_PASSWORD, PASSWORD, TextField } from '../components/Field.tsx';
import { Form, SubmitButton, useFormFields } from '../components/Form.tsx';
import { Page } from '../components/Page.tsx';
import { refreshSession, useTRPC } from '../lib/trpc.ts';

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
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      // Typed: `form` is declared below (it needs this mutation's error) and only read once this runs.
      onSuccess: (): void => form.set({ currentPassword: '', newPassword: '' }),
    }),
  );
  const form = useFormFields({ currentPassword: '', newPassword: '' }, change.error);
  return (
    <Card
      title="Change password"
      description="Every other session of your account is signed out; this one stays. API keys are separate credentials: a password change does not touch them (revoke or rotate them on the API keys page)."
    >
      <Form
        className="card-body form-stack"
        onSubmit={() => change.mutate(form.values)}
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
        <TextField label="Current password" {...PASSWORD} {...form.field('currentPassword')} />
        <TextField label="New password" {...NEW_PASSWORD} {...form.field('newPassword')} />
      </Form>
    </Card>
  );
}

function ChangeEmailCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { user } = useSession();
  const me = useQuery(trpc.auth.session.queryOptions());
  const change = useMutation(
    trpc.auth.changeEmail.mutationOptions({
      onSuccess: (): Promise<void> => {
        form.set({ currentPassword: '' });
        return refreshSession(queryClient);
      },
    }),
  );
  const form = useFormFields({ email: '', currentPassword: '' }, change.error);
  const pending = me.data?.pendingEmail ?? null;
  return (
    <Card
      title="Email address"
      description={`You sign in and receive invitations at ${user.email}. A new address takes effect once you follow the link we mail to it.${pending ? ` Waiting for ${pending} to be confirmed.` : ''}`}
    >
      <Form
        className="card-body form-stack"
        onSubmit={() => change.mutate(form.values)}
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
        <TextField label="New email" {...NEW_EMAIL} {...form.field('email')} />
        <TextField label="Password" {...PASSWORD} {...form.field('currentPassword')} />
      </Form>
    </Card>
  );
}
