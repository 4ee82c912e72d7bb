import { useQuery } from '@tanstack/react-query';
import { AuthScreen } from '../auth/AuthScreen.tsx';
import { FullPageError, FullPageLoading } from '../components/FullPage.tsx';
import { describeError } from '../lib/errors.ts';
import { useTRPC } from '../lib/trpc.ts';
import { SignedInApp } from './SignedInApp.tsx';

/** Who is here decides everything: no session → sign in; a session → the settings app. */
export function Root() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());

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
  return <SignedInApp me={me.data} />;
}
