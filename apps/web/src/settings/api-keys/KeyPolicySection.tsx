import { KEY_MAX_LIFETIME_DAYS } from '@crowdee/core/expiry';
import { can } from '@crowdee/core/permissions';
import { STALE_KEY_POLICY_MAX_DAYS, STALE_KEY_POLICY_MIN_DAYS } from '@crowdee/core/stale-keys';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ActiveOrganization } from '../../app/session.tsx';
import { Card } from '../../components/Card.tsx';
import { Checkbox, TextField, WHOLE_NUMBER } from '../../components/Field.tsx';
import { Form, SubmitButton, useFormFields } from '../../components/Form.tsx';
import { fieldError } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';

function describePolicy(policy: ActiveOrganization['keyPolicy']): string {
  const expiry =
    policy.maxLifetimeDays !== null
      ? `Keys must expire within ${policy.maxLifetimeDays} days.`
      : policy.requireExpiry
        ? 'Keys must have an expiration date.'
        : 'Keys may be created without an expiration date.';
  return policy.revokeUnusedAfterDays === null
    ? expiry
    : `${expiry} Keys unused here for ${policy.revokeUnusedAfterDays} days are revoked.`;
}

/** The organization's rules for keys that can act on it: everyone sees them, admins change them. */
export function KeyPolicySection({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const editable = can(org.role, 'keys:manage-org');
  const [requireExpiry, setRequireExpiry] = useState(org.keyPolicy.requireExpiry);
  const [localError, setLocalError] = useState<string | null>(null);
  const [revokeUnused, setRevokeUnused] = useState(org.keyPolicy.revokeUnusedAfterDays !== null);
  const [unusedError, setUnusedError] = useState<string | null>(null);
  const save = useMutation(
    trpc.orgs.setKeyPolicy.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.orgs.pathFilter()),
          queryClient.invalidateQueries(trpc.audit.pathFilter()),
        ]),
    }),
  );

  const form = useFormFields(
    {
      maxLifetimeDays: org.keyPolicy.maxLifetimeDays?.toString() ?? '',
      revokeUnusedAfterDays: org.keyPolicy.revokeUnusedAfterDays?.toString() ?? '90',
    },
    save.error,
  );
  const maxDays = form.values.maxLifetimeDays;

  const submit = () => {
    const trimmed = maxDays.trim();
    const days = trimmed === '' ? null : Number(trimmed);
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > KEY_MAX_LIFETIME_DAYS)) {
      setLocalError(`Enter a whole number of days from 1 to ${KEY_MAX_LIFETIME_DAYS}, or leave it empty.`);
      return;
    }
    setLocalError(null);
    const unused = Number(form.values.revokeUnusedAfterDays.trim());
    if (
      revokeUnused &&
      (!Number.isInteger(unused) || unused < STALE_KEY_POLICY_MIN_DAYS || unused > STALE_KEY_POLICY_MAX_DAYS)
    ) {
      setUnusedError(
        `Enter a whole number of days from ${STALE_KEY_POLICY_MIN_DAYS} to ${STALE_KEY_POLICY_MAX_DAYS}.`,
      );
      return;
    }
    setUnusedError(null);
    save.mutate({
      orgId: org.id,
      requireExpiry: requireExpiry || days !== null,
      maxLifetimeDays: days,
      revokeUnusedAfterDays: revokeUnused ? unused : null,
    });
  };

  return (
    <Card
      title="Key policy"
      description={
        <>
          Rules for every key that can act on {org.name}, checked when a key is created or rotated.{' '}
          <strong>{describePolicy(org.keyPolicy)}</strong>
        </>
      }
    >
      {editable ? (
        <Form
          className="card-body form-stack policy-form"
          onSubmit={submit}
          // The two fields show their own errors; anything else shows above the button.
          error={
            fieldError(save.error, 'maxLifetimeDays') || fieldError(save.error, 'revokeUnusedAfterDays')
              ? null
              : save.error
          }
          showAllErrors
          errorContext="Couldn’t save the key policy"
          actions={
            <div className="form-actions">
              <SubmitButton
                pending={save.isPending}
                label="Save key policy"
                pendingLabel="Saving…"
                variant="secondary"
              />
              <output className="form-status" aria-live="polite">
                {save.isSuccess ? 'Saved.' : ''}
              </output>
            </div>
          }
        >
          <Checkbox
            checked={requireExpiry || maxDays.trim() !== ''}
            disabled={maxDays.trim() !== ''}
            onChange={setRequireExpiry}
          >
            <span>Require an expiration date</span>
          </Checkbox>
          <TextField
            label="Maximum lifetime (days)"
            {...WHOLE_NUMBER}
            min={1}
            max={KEY_MAX_LIFETIME_DAYS}
            hint="Leave empty for no maximum. A maximum also requires an expiration date."
            {...form.field('maxLifetimeDays', localError)}
          />
          <Checkbox checked={revokeUnused} onChange={setRevokeUnused}>
            <span>Revoke keys unused for N days</span>
          </Checkbox>
          {revokeUnused ? (
            <TextField
              label="Days without use"
              {...WHOLE_NUMBER}
              min={STALE_KEY_POLICY_MIN_DAYS}
              max={STALE_KEY_POLICY_MAX_DAYS}
              hint={`From ${STALE_KEY_POLICY_MIN_DAYS} to ${STALE_KEY_POLICY_MAX_DAYS}. Checked hourly: a key not used in ${org.name} for this long (counted from its creation if never used) is revoked, or — if it also works in other organizations — cut off here only. Its owner is emailed.`}
              {...form.field('revokeUnusedAfterDays', unusedError)}
            />
          ) : null}
        </Form>
      ) : (
        <p className="card-body muted">Only admins and owners can change the key policy.</p>
      )}
    </Card>
  );
}
