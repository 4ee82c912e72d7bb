import { allowedLifetimes, type KeyPolicy, strictestPolicy } from '@crowdee/core/expiry';
import { keyPermissionGroups } from '@crowdee/core/key-permissions';
import { PERMISSION_NAMES, type Permission } from '@crowdee/core/permissions';
import { isKeyRole, type KeyRole, keyRolesFor } from '@crowdee/core/roles';
import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { ActiveOrganization } from '../../app/session.tsx';
import { useSession } from '../../app/session.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { Checkbox, RadioGroup, SelectField, TextField } from '../../components/Field.tsx';
import { DialogForm } from '../../components/Form.tsx';
import { describeError, fieldError } from '../../lib/errors.ts';
import { formatDate, listSentence, roleLabel } from '../../lib/format.ts';
import { describeRole } from '../../lib/roles.ts';
import { type ApiKey, type Organization, useTRPC } from '../../lib/trpc.ts';
import {
  AllowedIpsField,
  allowlistLines,
  allowlistProblem,
  type PermissionMode,
  PermissionsField,
} from './KeyRestrictionFields.tsx';

const DAY_MS = 86_400_000;
/** API field errors shown beside a field; any other failure is shown as a notice above the buttons. */
const FIELD_PATHS: ReadonlySet<string> = new Set([
  'name',
  'role',
  'orgIds',
  'expiresAt',
  'expiresInDays',
  'permissions',
]);
/** Allowlist errors name the entry: `allowedIps.3`. */
const isFieldPath = (path: string) => FIELD_PATHS.has(path) || path.startsWith('allowedIps');

interface CreateKeyDialogProps {
  activeOrg: ActiveOrganization;
  onClose: () => void;
  onCreated: (secret: string, apiKey: ApiKey) => void;
}

type ScopeMode = 'all' | 'selected';

/** "2026-12-28" in local time, for <input type="date">. */
function localDateString(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

function addDays(date: Date, days: number): Date {
  const next = new Date(date);
  next.setDate(next.getDate() + days);
  return next;
}

/** Whole calendar days from today to a picked date (local time). */
function daysUntil(picked: string, today: Date): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(picked);
  if (!match) return null;
  const target = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  return Math.round((target.getTime() - start.getTime()) / DAY_MS);
}

function defaultExpiration(presets: number[]): string {
  if (presets.includes(30)) return '30';
  const longest = presets[presets.length - 1];
  return longest === undefined ? 'custom' : String(longest);
}

/** Why expiry is limited, naming the organizations whose policies apply. */
function policyExplanation(reachable: Organization[]): string | null {
  const strict = reachable.filter((o) => o.keyPolicy.requireExpiry || o.keyPolicy.maxLifetimeDays !== null);
  if (strict.length === 0) return null;
  const rules = strict.map((o) =>
    o.keyPolicy.maxLifetimeDays !== null
      ? `${o.name} allows at most ${o.keyPolicy.maxLifetimeDays} days`
      : `${o.name} requires an expiration`,
  );
  return `${listSentence(rules)}. A key must meet the policy of every organization it can act on.`;
}

export function CreateKeyDialog({ activeOrg, onClose, onCreated }: CreateKeyDialogProps) {
  const trpc = useTRPC();
  const { organizations } = useSession();
  const roles = keyRolesFor(activeOrg.role);
  const lowestRole: KeyRole = roles[0] ?? 'viewer';
  const checkboxGroupId = useId();
  const radioName = useId();

  const [name, setName] = useState('');
  const [role, setRole] = useState<KeyRole>(lowestRole);
  const [scopeMode, setScopeMode] = useState<ScopeMode>('all');
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set([activeOrg.id]));
  const [expirationChoice, setExpirationChoice] = useState('30');
  const [customDate, setCustomDate] = useState('');
  const [permissionMode, setPermissionMode] = useState<PermissionMode>('all');
  const [chosenPermissions, setChosenPermissions] = useState<ReadonlySet<Permission>>(() => new Set());
  const [allowedIpsText, setAllowedIpsText] = useState('');
  const [showErrors, setShowErrors] = useState(false);

  const create = useMutation(
    trpc.keys.create.mutationOptions({
      // The secret must not outlive the reveal panel in some cache.
      gcTime: 0,
      onSuccess: (result) => onCreated(result.key, result.apiKey),
    }),
  );

  const reachable = scopeMode === 'all' ? organizations : organizations.filter((o) => selected.has(o.id));
  const policy: KeyPolicy = strictestPolicy(reachable.map((o) => o.keyPolicy));
  const lifetimes = allowedLifetimes(policy);
  const expirationOptions = [
    ...lifetimes.presetsDays.map((days) => ({ value: String(days), label: `${days} days` })),
    { value: 'custom', label: 'Custom date…' },
    ...(lifetimes.neverAllowed ? [{ value: 'never', label: 'No expiration' }] : []),
  ];
  // A choice the current policy no longer allows (after changing organizations) falls back to a safe default.
  const expiration = expirationOptions.some((o) => o.value === expirationChoice)
    ? expirationChoice
    : defaultExpiration(lifetimes.presetsDays);

  const today = new Date();
  const minDate = localDateString(addDays(today, 1));
  const maxDate = localDateString(addDays(today, lifetimes.maxDays));
  const customDays = expiration === 'custom' ? daysUntil(customDate, today) : null;

  let expiresInDays: number | null = null;
  let expiryError: string | null = null;
  if (expiration === 'custom') {
    if (customDays === null) expiryError = 'Choose a date.';
    else if (customDays < 1 || customDays > lifetimes.maxDays)
      expiryError = `Choose a date between ${formatDate(addDays(today, 1).toISOString())} and ${formatDate(addDays(today, lifetimes.maxDays).toISOString())}.`;
    else expiresInDays = customDays;
  } else if (expiration !== 'never') {
    expiresInDays = Number(expiration);
  }
  const expiresOn = expiresInDays !== null ? formatDate(addDays(today, expiresInDays).toISOString()) : null;

  // Ticked permissions the chosen role cannot give a key are dropped, not sent (the API would refuse them).
  const offered = new Set(keyPermissionGroups(role).flatMap((g) => g.permissions));
  const permissions = PERMISSION_NAMES.filter((p) => chosenPermissions.has(p) && offered.has(p));
  const permissionsError =
    permissionMode === 'only' && permissions.length === 0 ? 'Choose at least one permission.' : null;
  const allowedIpsError = allowlistProblem(allowedIpsText);

  const nameError = name.trim() === '' ? 'Enter a name.' : null;
  const scopeError =
    scopeMode === 'selected' && selected.size === 0 ? 'Choose at least one organization.' : null;

  const submit = () => {
    if (nameError || scopeError || expiryError || permissionsError || allowedIpsError) {
      setShowErrors(true);
      return;
    }
    create.mutate({
      name: name.trim(),
      role,
      ...(scopeMode === 'selected' ? { orgIds: [...selected] } : {}),
      ...(expiresInDays !== null ? { expiresInDays } : {}),
      ...(permissionMode === 'only' ? { permissions } : {}),
      ...(allowlistLines(allowedIpsText).length > 0 ? { allowedIps: allowlistLines(allowedIpsText) } : {}),
    });
  };

  const toggleOrg = (id: string, checked: boolean) => {
    const next = new Set(selected);
    if (checked) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  const apiError = create.error;
  const expiryApiError = fieldError(apiError, 'expiresAt') ?? fieldError(apiError, 'expiresInDays');
  const apiFieldErrors = apiError ? describeError(apiError).fieldErrors : [];
  // Errors of the fields this form shows appear under them; any other appears above the buttons.
  const formError = apiFieldErrors.some((f) => isFieldPath(f.path)) ? null : apiError;
  const allowedIpsApiError = apiFieldErrors.find((f) => f.path.startsWith('allowedIps'))?.message ?? null;
  const maxRole = roles[roles.length - 1] ?? lowestRole;
  const explanation = policyExplanation(reachable);

  return (
    <Dialog
      title="Create API key"
      description="A key acts as you, within the role and organizations you choose here."
      onClose={onClose}
      busy={create.isPending}
      size="large"
    >
      <DialogForm
        onSubmit={submit}
        showAllErrors
        errorContext="Couldn’t create the key"
        mutation={{ error: formError, isPending: create.isPending }}
        onCancel={onClose}
        submit={['Create key', 'Creating…']}
      >
        <TextField
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          autoComplete="off"
          required
          data-autofocus
          hint="What uses this key, so you recognise it later, e.g. “CI deploys”."
          error={(showErrors ? nameError : null) ?? fieldError(apiError, 'name')}
        />

        <RadioGroup<KeyRole>
          legend="Role"
          name={`${radioName}-role`}
          value={role}
          onChange={setRole}
          options={roles.map((r) => ({ value: r, label: roleLabel(r), description: describeRole(r, 'key') }))}
          hint={
            <>
              Your role in <strong>{activeOrg.name}</strong> is {activeOrg.role}, so a key you create can be
              at most {maxRole}
              {isKeyRole(activeOrg.role) ? '' : ' (owner power never goes into a key)'}. In any organization a
              key never acts above your own role there.
            </>
          }
          error={fieldError(apiError, 'role')}
        />

        <fieldset className="field fieldset">
          <legend className="field-label">Organizations</legend>
          <div className="choice-list">
            <label className="choice">
              <input
                type="radio"
                name={`${radioName}-scope`}
                value="all"
                checked={scopeMode === 'all'}
                onChange={() => setScopeMode('all')}
                aria-labelledby={`${radioName}-all-label`}
                aria-describedby={`${radioName}-all-description`}
              />
              <span className="choice-text">
                <span id={`${radioName}-all-label`} className="choice-label">
                  All my organizations
                </span>
                <span id={`${radioName}-all-description`} className="choice-description">
                  Every organization you belong to, now and later ({organizations.length} today).
                </span>
              </span>
            </label>
            <label className="choice">
              <input
                type="radio"
                name={`${radioName}-scope`}
                value="selected"
                checked={scopeMode === 'selected'}
                onChange={() => setScopeMode('selected')}
                aria-labelledby={`${radioName}-selected-label`}
                aria-describedby={`${radioName}-selected-description`}
              />
              <span className="choice-text">
                <span id={`${radioName}-selected-label`} className="choice-label">
                  Only selected organizations
                </span>
                <span id={`${radioName}-selected-description`} className="choice-description">
                  The key is refused everywhere else.
                </span>
              </span>
            </label>
          </div>
          {scopeMode === 'selected' ? (
            <fieldset
              className="nested-fieldset"
              aria-describedby={scopeError && showErrors ? checkboxGroupId : undefined}
            >
              <legend className="visually-hidden">Choose organizations</legend>
              {organizations.map((org) => (
                <Checkbox
                  key={org.id}
                  checked={selected.has(org.id)}
                  onChange={(checked) => toggleOrg(org.id, checked)}
                >
                  <span>{org.name}</span>
                  <span className="muted">· {org.role}</span>
                </Checkbox>
              ))}
            </fieldset>
          ) : null}
          {(showErrors && scopeError) || fieldError(apiError, 'orgIds') ? (
            <p id={checkboxGroupId} className="field-error">
              {(showErrors ? scopeError : null) ?? fieldError(apiError, 'orgIds')}
            </p>
          ) : null}
        </fieldset>

        <div className="field-row">
          <SelectField
            label="Expiration"
            value={expiration}
            onChange={(e) => setExpirationChoice(e.target.value)}
            hint={
              explanation ??
              (expiration === 'never'
                ? 'A key that never expires stays dangerous if it leaks. Prefer an expiration.'
                : undefined)
            }
            error={expiration !== 'custom' ? expiryApiError : null}
          >
            {expirationOptions.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </SelectField>
          {expiration === 'custom' ? (
            <TextField
              label="Expiration date"
              type="date"
              min={minDate}
              max={maxDate}
              value={customDate}
              onChange={(e) => setCustomDate(e.target.value)}
              required
              error={(showErrors ? expiryError : null) ?? expiryApiError}
            />
          ) : null}
        </div>
        {expiresOn ? (
          <p className="form-note">
            The key will expire on <strong>{expiresOn}</strong>.
          </p>
        ) : expiration === 'never' ? (
          <p className="form-note">The key will not expire.</p>
        ) : null}

        <PermissionsField
          role={role}
          mode={permissionMode}
          onModeChange={setPermissionMode}
          selected={chosenPermissions}
          onSelectedChange={setChosenPermissions}
          error={(showErrors ? permissionsError : null) ?? fieldError(apiError, 'permissions')}
        />

        <AllowedIpsField
          value={allowedIpsText}
          onChange={setAllowedIpsText}
          error={(showErrors ? allowedIpsError : null) ?? allowedIpsApiError}
        />
      </DialogForm>
    </Dialog>
  );
}
