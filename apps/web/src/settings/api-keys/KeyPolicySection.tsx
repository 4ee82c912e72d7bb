import { KEY_MAX_LIFETIME_DAYS } from '@crowdee/core/expiry';
import { can } from '@crowdee/core/permissions';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { ActiveOrganization } from '../../app/session.tsx';
import { ErrorNotice } from '../../components/ErrorNotice.tsx';
import { TextField } from '../../components/Field.tsx';
import { fieldError } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';

function describePolicy(policy: ActiveOrganization['keyPolicy']): string {
  if (policy.maxLifetimeDays !== null) return `Keys must expire within ${policy.maxLifetimeDays} days.`;
  if (policy.requireExpiry) return 'Keys must have an expiration date.';
  return 'Keys may be created without an expiration date.';
}

/** The organization's rules for keys that can act on it: everyone sees them, admins change them. */
export function KeyPolicySection({ org }: { org: ActiveOrganization }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const headingId = useId();
  const requireId = useId();
  const editable = can(org.role, 'keys:manage-org');
  const [requireExpiry, setRequireExpiry] = useState(org.keyPolicy.requireExpiry);
  const [maxDays, setMaxDays] = useState(org.keyPolicy.maxLifetimeDays?.toString() ?? '');
  const [localError, setLocalError] = useState<string | null>(null);
  const save = useMutation(
    trpc.orgs.setKeyPolicy.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.orgs.pathFilter()),
          queryClient.invalidateQueries(trpc.audit.pathFilter()),
        ]),
    }),
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = maxDays.trim();
    const days = trimmed === '' ? null : Number(trimmed);
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > KEY_MAX_LIFETIME_DAYS)) {
      setLocalError(`Enter a whole number of days from 1 to ${KEY_MAX_LIFETIME_DAYS}, or leave it empty.`);
      return;
    }
    setLocalError(null);
    save.mutate({ orgId: org.id, requireExpiry: requireExpiry || days !== null, maxLifetimeDays: days });
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <div>
          <h2 id={headingId} className="card-title">
            Key policy
          </h2>
          <p className="card-description">
            Rules for every key that can act on {org.name}, checked when a key is created or rotated.{' '}
            <strong>{describePolicy(org.keyPolicy)}</strong>
          </p>
        </div>
      </div>
      {editable ? (
        <form className="card-body form-stack policy-form" onSubmit={submit} noValidate>
          <label className="checkbox" htmlFor={requireId}>
            <input
              id={requireId}
              type="checkbox"
              checked={requireExpiry || maxDays.trim() !== ''}
              disabled={maxDays.trim() !== ''}
              onChange={(e) => setRequireExpiry(e.target.checked)}
            />
            <span>Require an expiration date</span>
          </label>
          <TextField
            label="Maximum lifetime (days)"
            type="number"
            inputMode="numeric"
            min={1}
            max={KEY_MAX_LIFETIME_DAYS}
            value={maxDays}
            onChange={(e) => setMaxDays(e.target.value)}
            hint="Leave empty for no maximum. A maximum also requires an expiration date."
            error={localError ?? fieldError(save.error, 'maxLifetimeDays')}
            className="field-narrow"
          />
          {save.error && !fieldError(save.error, 'maxLifetimeDays') ? (
            <ErrorNotice error={save.error} compact context="Couldn’t save the key policy" />
          ) : null}
          <div className="form-actions">
            <button type="submit" className="button button-secondary" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : 'Save key policy'}
            </button>
            <output className="form-status" aria-live="polite">
              {save.isSuccess ? 'Saved.' : ''}
            </output>
          </div>
        </form>
      ) : (
        <p className="card-body muted">Only admins and owners can change the key policy.</p>
      )}
    </section>
  );
}
