import { useQuery } from '@tanstack/react-query';
import { AuthScreen } from '../auth/AuthScreen.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Loading } from '../components/Status.tsx';
import { describeError } from '../lib/errors.ts';
import { useTRPC } from '../lib/trpc.ts';
import { SignedInApp } from './SignedInApp.tsx';

/** Who is here decides everything: no session → sign in; a session → the settings app. */
export function Root() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());

  if (me.isPending) {
    return (
      <div className="page-center">
        <Loading label="Loading your account…" />
      </div>
    );
  }
  if (me.isError) {
    if (describeError(me.error).kind === 'unauthenticated') return <AuthScreen />;
    return (
      <div className="page-center">
        <main className="center-card">
          <h1 className="center-card-title">
            <span className="brand-mark" aria-hidden="true">
              C
            </span>
            Crowdee
          </h1>
          <ErrorNotice
            error={me.error}
            onRetry={() => void me.refetch()}
            context="Couldn’t load your account"
          />
        </main>
      </div>
    );
  }
  return <SignedInApp me={me.data} />;
}
