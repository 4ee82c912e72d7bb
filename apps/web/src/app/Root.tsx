import { useQuery } from '@tanstack/react-query';
import { ACCOUNT_LINK_PATHS, AccountLinkPage } from '../auth/AccountLinkPages.tsx';
import { AuthScreen } from '../auth/AuthScreen.tsx';
import { FullPageError, FullPageLoading } from '../components/FullPage.tsx';
import { describeError } from '../lib/errors.ts';
import { usePath } from '../lib/router.tsx';
import { useTRPC } from '../lib/trpc.ts';
import { SignedInApp } from './SignedInApp.tsx';

/** Who is here decides everything: no session → sign in; a session → the settings app. */
export function Root() {
  const trpc = useTRPC();
  // `auth.session` answers null to a signed-out visitor (no 401 for a normal visit).
  const me = useQuery(trpc.auth.session.queryOptions());
  const path = usePath();

  // Mailed links and the reset request work the same signed in or not.
  if (ACCOUNT_LINK_PATHS.has(path)) return <AccountLinkPage path={path} />;
  if (me.isPending) return <FullPageLoading label="Loading your account…" />;
  if (me.isError) {
    if (describeError(me.error).kind === 'unauthenticated') return <AuthScreen />;
    return (
      <FullPageError
        error={me.error}
        onRetry={() => void me.refetch()}
        context="Couldn’t load your account"
      />
    );
  }
  if (me.data === null) return <AuthScreen />;
  return <SignedInApp me={me.data} />;
}
