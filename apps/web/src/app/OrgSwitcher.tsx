import { roleAtLeast } from '@crowdee/core/roles';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Button } from '../components/Button.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { Badge } from '../components/Status.tsx';
import { roleLabel } from '../lib/format.ts';
import { useTRPC } from '../lib/trpc.ts';
import { CreateOrganizationDialog } from './CreateOrganizationDialog.tsx';
import { useSession } from './session.tsx';

/** The active organization and my role in it; switching changes what every page shows and what a new key may be. */
export function OrgSwitcher() {
  const { activeOrg, organizations } = useSession();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const selectId = useId();
  const roleId = useId();
  const [creating, setCreating] = useState(false);
  const setActive = useMutation(
    trpc.orgs.setActive.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }),
  );

  return (
    <section className="org-switcher" aria-label="Organization switcher">
      {organizations.length > 0 ? (
        <>
          <label htmlFor={selectId} className="org-switcher-label">
            Organization
          </label>
          <select
            id={selectId}
            className="select org-switcher-select"
            value={activeOrg?.id ?? ''}
            aria-describedby={roleId}
            disabled={setActive.isPending}
            onChange={(event) => setActive.mutate({ orgId: event.target.value })}
          >
            {activeOrg ? null : (
              <option value="" disabled>
                Choose an organization
              </option>
            )}
            {organizations.map((org) => (
              <option key={org.id} value={org.id}>
                {org.name}
              </option>
            ))}
          </select>
          {activeOrg ? (
            <p id={roleId} className="org-switcher-role">
              Your role:{' '}
              <Badge tone={roleAtLeast(activeOrg.role, 'admin') ? 'purple' : 'neutral'}>
                {roleLabel(activeOrg.role)}
              </Badge>
            </p>
          ) : null}
        </>
      ) : (
        <p className="org-switcher-empty">You are not in an organization yet.</p>
      )}
      {setActive.isError ? <ErrorNotice error={setActive.error} compact context="Couldn’t switch" /> : null}
      <Button variant="ghost" small className="org-switcher-create" onClick={() => setCreating(true)}>
        <span aria-hidden="true">+</span> Create organization
      </Button>
      {creating ? <CreateOrganizationDialog onClose={() => setCreating(false)} /> : null}
    </section>
  );
}
