import type { Role } from '@crowdee/core/roles';
import { createContext, useContext } from 'react';
import type { Me, Organization } from '../lib/trpc.ts';

export interface ActiveOrganization {
  id: string;
  name: string;
  role: Role;
  keyPolicy: Organization['keyPolicy'];
  /** The owners' policy "Members must use two-factor sign-in". */
  twoFactorRequired: boolean;
}

export interface SessionState {
  user: Me['user'];
  /** The organization the session acts in (`orgs.setActive`); a new key's role is capped by the role here. */
  activeOrg: ActiveOrganization | null;
  organizations: Organization[];
}

const SessionContext = createContext<SessionState | null>(null);
export const SessionProvider = SessionContext.Provider;

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession() outside <SessionProvider>');
  return session;
}
