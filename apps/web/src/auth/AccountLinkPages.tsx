import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { EMAIL, NEW_PASSWORD, TextField } from '../components/Field.tsx';
import { Form, SubmitButton, useFormFields } from '../components/Form.tsx';
import { Link } from '../lib/router.tsx';
import { refreshSession, useTRPC } from '../lib/trpc.ts';
import { AuthLayout, AuthTitle } from './AuthLayout.tsx';
import { takeTokenFromLocation } from './token-link.ts';

/** The pages mailed links open, and the reset request: they work signed in or not. */
export const ACCOUNT_LINK_PATHS = new Set(['/verify-email', '/reset-password', '/forgot-password']);

export function AccountLinkPage({ path }: { path: string }) {
  if (path === '/verify-email') return <VerifyEmailPage />;
  if (path === '/reset-password') return <ResetPasswordPage />;
  return <ForgotPasswordPage />;
}

function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <AuthLayout title={title}>
      <AuthTitle>{title}</AuthTitle>
      {children}
    </AuthLayout>
  );
}

function VerifyEmailPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [token] = useState(takeTokenFromLocation);
  const verify = useMutation(
    trpc.auth.verifyEmail.mutationOptions({
      onSuccess: () => refreshSession(queryClient),
    }),
  );
  const started = useRef(false);
  useEffect(() => {
    // Once: the token is single use, and React may run effects twice in development.
    if (!token || started.current) return;
    started.current = true;
    verify.mutate({ token });
  }, [token, verify]);
  return (
    <Card title="Verify your email address">
      {!token ? (
        <p className="auth-subtitle">This link has no token. Open the link from the mail again.</p>
      ) : verify.isSuccess ? (
        <p className="auth-subtitle" role="status">
          {verify.data.email} is verified. <Link to="/settings/api-keys">Continue to settings</Link>
        </p>
      ) : verify.isError ? (
        <ErrorNotice error={verify.error} compact context="Couldn’t verify your address" />
      ) : (
        <p className="auth-subtitle">Verifying…</p>
      )}
    </Card>
  );
}

function ResetPasswordPage() {
  const trpc = useTRPC();
  const [token] = useState(takeTokenFromLocation);
  const reset = useMutation(trpc.auth.resetPassword.mutationOptions());
  const form = useFormFields({ newPassword: '' }, reset.error);
  if (reset.isSuccess)
    return (
      <Card title="Password changed">
        <p className="auth-subtitle" role="status">
          Your password is changed and every session of your account has ended. API keys keep working.{' '}
          <a href="/sign-in">Sign in</a> with the new password.
        </p>
      </Card>
    );
  return (
    <Card title="Choose a new password">
      {!token ? (
        <p className="auth-subtitle">
          This link has no token. <Link to="/forgot-password">Ask for a new link</Link>.
        </p>
      ) : (
        <Form
          className="auth-form"
          onSubmit={() => reset.mutate({ token, ...form.values })}
          error={reset.error}
          errorContext="Couldn’t reset the password"
          actions={
            <SubmitButton block pending={reset.isPending} label="Set new password" pendingLabel="Saving…" />
          }
        >
          <p className="auth-subtitle">Setting it signs out every session of your account.</p>
          <TextField label="New password" {...NEW_PASSWORD} {...form.field('newPassword')} />
        </Form>
      )}
    </Card>
  );
}

function ForgotPasswordPage() {
  const trpc = useTRPC();
  const request = useMutation(trpc.auth.requestPasswordReset.mutationOptions());
  const form = useFormFields({ email: '' }, request.error);
  return (
    <Card title="Reset your password">
      {request.isSuccess ? (
        <p className="auth-subtitle" role="status">
          If an account uses {request.variables?.email}, a link to reset its password is on its way. It works
          once, for an hour.
        </p>
      ) : (
        <Form
          className="auth-form"
          onSubmit={() => request.mutate(form.values)}
          error={request.error}
          errorContext="Couldn’t send the link"
          actions={
            <SubmitButton block pending={request.isPending} label="Send reset link" pendingLabel="Sending…" />
          }
        >
          <p className="auth-subtitle">
            We’ll mail a link to the address of your account. <Link to="/sign-in">Back to sign in</Link>
          </p>
          <TextField label="Email" {...EMAIL} {...form.field('email')} />
        </Form>
      )}
    </Card>
  );
}
