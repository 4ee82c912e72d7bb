import type { AppRouter } from '@crowdee/api';
import { MAX_BATCH_CALLS } from '@crowdee/core/input-boundary';
import type { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { type SudoGate, sudoLink } from './sudo.ts';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type Me = RouterOutputs['auth']['me'];
export type Organization = RouterOutputs['orgs']['list'][number];
export type ApiKey = RouterOutputs['keys']['list'][number];
export type OrgApiKey = RouterOutputs['keys']['listForOrg'][number];
export type Member = RouterOutputs['members']['list'][number];
export type SessionInfo = RouterOutputs['sessions']['list'][number];
export type PasskeyInfo = RouterOutputs['auth']['passkeys']['list'][number];
export type AuditEvent = RouterOutputs['audit']['list']['items'][number];
export type OrgInvitation = RouterOutputs['members']['invitations'][number];
export type MyInvitation = RouterOutputs['invitations']['list'][number];
export type OrgRun = RouterOutputs['runs']['listForOrg']['items'][number];

/**
 * Same-origin only: the API serves this app in production and Vite proxies /trpc in development, so the session
 * cookie travels and the browser's `Sec-Fetch-Site: same-origin` satisfies the API's CSRF check. Mutations the API
 * refuses for sudo mode ask `sudo` (the "Confirm it’s you" dialog) and are sent again once confirmed.
 */
export function createApiClient(sudo: SudoGate): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      sudoLink(sudo),
      httpBatchLink({
        url: '/trpc',
        // The API refuses larger batches (413 BATCH_TOO_LARGE): split them here instead.
        maxItems: MAX_BATCH_CALLS,
        fetch: (url, init) => fetch(url, { ...init, credentials: 'same-origin' }),
      }),
    ],
  });
}

/**
 * The query key prefix of `auth.session` (who is signed in, or null), for code outside React (the query cache's
 * error handler, sign-in and sign-up).
 */
export const ME_QUERY_KEY = [['auth', 'session']] as const;

/**
 * Re-reads `auth.session` after something changed it (verified the address, signed in, confirmed sudo). A read
 * already in flight is dropped first: TanStack Query folds a refetch into a running first fetch (it cancels only
 * one that has data), so a read that started before the change — the page load racing the mailed link's
 * verification — would land afterwards and stand as fresh, and the "verify your address" banner stayed.
 */
export async function refreshSession(queryClient: QueryClient): Promise<void> {
  await queryClient.cancelQueries({ queryKey: ME_QUERY_KEY });
  await queryClient.invalidateQueries({ queryKey: ME_QUERY_KEY });
}
