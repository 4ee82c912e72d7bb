import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError, shouldRetry } from '../lib/errors.ts';
import { SudoGate } from '../lib/sudo.ts';
import { createApiClient, ME_QUERY_KEY, TRPCProvider } from '../lib/trpc.ts';
import { Root } from './Root.tsx';
import { SudoDialogHost } from './SudoDialog.tsx';

function createQueryClient(): QueryClient {
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError(error, query) {
        // A session that ended elsewhere (signed out, expired, revoked from another device): re-ask
        // `auth.session`, whose null answer shows the sign-in screen.
        if (describeError(error).kind !== 'unauthenticated') return;
        const key = query.queryKey[0];
        const isMe = Array.isArray(key) && key[0] === 'auth' && key[1] === 'session';
        if (!isMe) void client.invalidateQueries({ queryKey: ME_QUERY_KEY });
      },
    }),
    defaultOptions: {
      queries: { retry: shouldRetry, retryDelay: (attempt) => 500 * 2 ** attempt, staleTime: 15_000 },
      mutations: { retry: false },
    },
  });
  return client;
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [sudo] = useState(() => new SudoGate());
  const [trpcClient] = useState(() => createApiClient(sudo));
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <Root />
        <SudoDialogHost gate={sudo} />
      </TRPCProvider>
    </QueryClientProvider>
  );
}
