import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';
import { FullPageError, FullPageLoading } from '../components/FullPage.tsx';
import { navigate, usePath } from '../lib/router.tsx';
import { type Me, useTRPC } from '../lib/trpc.ts';
import { AppShell } from './AppShell.tsx';
import { SessionProvider, type SessionState } from './session.tsx';

export const DEFAULT_PATH = '/settings/api-keys';
const AUTH_PATHS = new Set(['/', '/sign-in', '/sign-up', '/settings', '/settings/']);

export function SignedInApp({ me }: { me: Me }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const path = usePath();
  const orgs = useQuery(trpc.orgs.list.queryOptions());

  useEffect(() => {
    if (AUTH_PATHS.has(path)) navigate(DEFAULT_PATH, { replace: true });
  }, [path]);

  // A session starts without an active organization (and loses it when its member is removed): pick the first
  // one, so the app always shows an organization when the user has any.
  const { mutate: activate } = useMutation(
    trpc.orgs.setActive.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }),
  );
  const autoActivated = useRef(false);
  const firstOrg = orgs.data?.[0];
  useEffect(() => {
    if (me.activeOrganization !== null || !firstOrg || autoActivated.current) return;
    autoActivated.current = true;
    activate({ orgId: firstOrg.id });
  }, [me.activeOrganization, firstOrg, activate]);

  const session = useMemo<SessionState | null>(() => {
    if (!orgs.data) return null;
    const active = me.activeOrganization;
    const fromList = active ? orgs.data.find((o) => o.id === active.id) : undefined;
    return {
      user: me.user,
      organizations: orgs.data,
      activeOrg: active
        ? {
            id: active.id,
            name: active.name,
            role: active.role,
            keyPolicy: fromList?.keyPolicy ?? {
              requireExpiry: false,
              maxLifetimeDays: null,
              revokeUnusedAfterDays: null,
            },
            twoFactorRequired: fromList?.twoFactorRequired ?? false,
          }
        : null,
    };
  }, [me, orgs.data]);

  if (orgs.isError && !orgs.data) {
    return (
      <FullPageError
        error={orgs.error}
        onRetry={() => void orgs.refetch()}
        context="Couldn’t load your organizations"
      />
    );
  }
  if (!session) return <FullPageLoading label="Loading your organizations…" />;
  return (
    <SessionProvider value={session}>
      <AppShell path={path} />
    </SessionProvider>
  );
}
