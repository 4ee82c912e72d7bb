import { type CallerKind, type Permission, permissionsOf } from '@crowdee/core/permissions';
import { ROLES, type Role } from '@crowdee/core/roles';
import { listSentence } from './format.ts';

/** Plain words for each permission in core's catalogue (a new permission there fails typechecking here). */
const PERMISSION_LABELS: Record<Permission, string> = {
  'org:read': 'see the organization',
  'org:update': 'rename the organization',
  'org:delete': 'delete the organization',
  'org:two-factor-policy': 'require two-factor sign-in of members',
  'members:read': 'list members',
  'members:manage': 'manage members',
  'members:invite': 'invite members',
  'members:leave': 'leave the organization',
  'keys:manage-org': 'manage everyone’s keys',
  'audit:read': 'read the audit log',
  'projects:read': 'read projects',
  'projects:write': 'create and edit projects',
  'projects:delete': 'delete projects',
  'datasets:read': 'read datasets and items',
  'datasets:write': 'create datasets and upload items',
  'datasets:delete': 'delete datasets and items',
  'runs:read': 'read verification runs',
  'runs:write': 'start and cancel verification runs',
};

/** What a role can do through a kind of caller, described from core's permission catalogue. */
export function describeRole(role: Role, via: CallerKind): string {
  const own = permissionsOf(role, via);
  const index = ROLES.indexOf(role);
  const below = index > 0 ? ROLES[index - 1] : undefined;
  if (below === undefined) return `${capitalize(listSentence(own.map((p) => PERMISSION_LABELS[p])))}.`;
  const inherited = new Set(permissionsOf(below, via));
  const added = own.filter((p) => !inherited.has(p)).map((p) => PERMISSION_LABELS[p]);
  return `Everything a ${below} can, plus: ${listSentence(added)}.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
