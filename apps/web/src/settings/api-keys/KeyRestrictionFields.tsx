import { parseAllowlist } from '@crowdee/core/ip';
import { keyPermissionGroups } from '@crowdee/core/key-permissions';
import type { Permission } from '@crowdee/core/permissions';
import type { KeyRole } from '@crowdee/core/roles';
import { useId } from 'react';
import { Checkbox, RadioGroup, TextAreaField } from '../../components/Field.tsx';

export type PermissionMode = 'all' | 'only';

/**
 * "Permissions: everything the role allows / only these", with the catalogue grouped by resource. The groups come
 * from packages/core's catalogue for the chosen role, so a permission added there appears here by itself.
 */
export function PermissionsField({
  role,
  mode,
  onModeChange,
  selected,
  onSelectedChange,
  error,
}: {
  role: KeyRole;
  mode: PermissionMode;
  onModeChange: (mode: PermissionMode) => void;
  selected: ReadonlySet<Permission>;
  onSelectedChange: (next: ReadonlySet<Permission>) => void;
  error: string | null;
}) {
  const name = useId();
  const groups = keyPermissionGroups(role);
  const toggle = (permission: Permission, checked: boolean) => {
    const next = new Set(selected);
    if (checked) next.add(permission);
    else next.delete(permission);
    onSelectedChange(next);
  };
  return (
    <div className="form-stack">
      <RadioGroup<PermissionMode>
        legend="Permissions"
        name={name}
        value={mode}
        onChange={onModeChange}
        options={[
          {
            value: 'all',
            label: 'Everything the role allows',
            description: 'The key can do whatever its role allows a key, now and as the catalogue grows.',
          },
          {
            value: 'only',
            label: 'Only these',
            description: 'Anything else is refused, even where the role would allow it.',
          },
        ]}
        error={mode === 'only' ? error : null}
      />
      {mode === 'only' ? (
        <fieldset className="permission-groups">
          <legend className="visually-hidden">Choose permissions</legend>
          {groups.map((group) => (
            <fieldset key={group.resource} className="permission-group">
              <legend>{group.resource}</legend>
              {group.permissions.map((permission) => (
                <Checkbox
                  key={permission}
                  checked={selected.has(permission)}
                  onChange={(checked) => toggle(permission, checked)}
                >
                  <code>{permission}</code>
                </Checkbox>
              ))}
            </fieldset>
          ))}
        </fieldset>
      ) : null}
    </div>
  );
}

/** The lines of the "Allowed IPs" box, without blank ones. */
export function allowlistLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** Client-side check with the same parser the API uses: the first problem, or null. */
export function allowlistProblem(text: string): string | null {
  const parsed = parseAllowlist(allowlistLines(text));
  if (parsed.ok) return null;
  const first = parsed.errors[0];
  return first ? `Line ${first.index + 1}: ${first.message}` : null;
}

export function AllowedIpsField({
  value,
  onChange,
  error,
  autoFocus,
}: {
  value: string;
  onChange: (text: string) => void;
  error: string | null;
  autoFocus?: boolean;
}) {
  return (
    <TextAreaField
      label="Allowed IPs"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      rows={3}
      spellCheck={false}
      autoComplete="off"
      placeholder={'203.0.113.0/24\n2001:db8::/32'}
      hint="One IPv4 or IPv6 address or CIDR range per line, at most 50. Leave empty to allow any address. Requests from elsewhere are refused (IP_NOT_ALLOWED)."
      error={error}
      {...(autoFocus ? { 'data-autofocus': true } : {})}
    />
  );
}
