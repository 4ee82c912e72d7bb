import { useMutation } from '@tanstack/react-query';
import { useSession } from '../app/session.tsx';
import { Button } from '../components/Button.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { useTRPC } from '../lib/trpc.ts';

/** Until the address is verified the account cannot create or join organizations: say so, and offer a new link. */
export function VerificationBanner() {
  const { user } = useSession();
  const trpc = useTRPC();
  const resend = useMutation(trpc.auth.resendVerification.mutationOptions());
  if (user.emailVerified) return null;
  return (
    <section className="banner banner-warning" aria-label="Email verification">
      <p className="banner-text">
        <strong>Verify your email address.</strong> We sent a link to {user.email}. Until you follow it you
        can’t create an organization or accept an invitation.
      </p>
      <div className="banner-actions">
        <Button small onClick={() => resend.mutate()} disabled={resend.isPending}>
          {resend.isPending ? 'Sending…' : 'Resend verification email'}
        </Button>
        <output className="form-status" aria-live="polite">
          {resend.isSuccess ? `A new link is on its way to ${user.email}.` : ''}
        </output>
      </div>
      {resend.isError ? <ErrorNotice error={resend.error} compact context="Couldn’t send the link" /> : null}
    </section>
  );
}
