import { can } from '@crowdee/core/permissions';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ActiveOrganization } from '../../app/session.tsx';
import { Card } from '../../components/Card.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { Checkbox } from '../../components/Field.tsx';
import { useTRPC } from '../../lib/trpc.ts';

/** "Members must use two-factor sign-in": everyone sees it, owners switch it. */
export function TwoFactorPolicySection({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const editable = can(org.role, 'org:two-factor-policy');
  const save = useMutation(
    trpc.orgs.setTwoFactorPolicy.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.orgs.pathFilter()),
          queryClient.invalidateQueries(trpc.keys.pathFilter()),
          queryClient.invalidateQueries(trpc.audit.pathFilter()),
        ]),
    }),
  );
  // While a change is on its way, show what was asked for; otherwise what the organization says.
  const required = save.isPending ? save.variables.required : org.twoFactorRequired;

  return (
    <Card
      title="Two-factor sign-in"
      description={
        org.twoFactorRequired
          ? `Members of ${org.name} must use two-factor sign-in. Members without it can’t act here until they set it up, and their API keys are refused here.`
          : `Members of ${org.name} may sign in with a password alone.`
      }
    >
      {editable ? (
        <div className="card-body form-stack">
          <Checkbox
            checked={required}
            disabled={save.isPending}
            onChange={(checked) => save.mutate({ orgId: org.id, required: checked })}
          >
            <span>Members must use two-factor sign-in</span>
          </Checkbox>
          <p className="field-hint">
            You need two-factor sign-in on your own account first, so the policy can’t lock you out.
          </p>
          {/* No context heading: the error's own ("Set up two-factor sign-in first") says more. */}
          {save.error ? <ErrorNotice error={save.error} compact /> : null}
          <output className="form-status" aria-live="polite">
            {save.isSuccess ? 'Saved.' : ''}
          </output>
        </div>
      ) : (
        <p className="card-body muted">Only owners can change this.</p>
      )}
    </Card>
  );
}
