/**
 * The REST API's request and response shapes, written out instead of inferred from the API's router so the
 * published declarations stand alone (the router's types live in the API's sources). `test/rest-types.test.ts`
 * checks at compile time that each one equals what the router really answers, so they cannot drift.
 */

export type Role = 'viewer' | 'member' | 'admin' | 'owner';
export type KeyRole = 'viewer' | 'member' | 'admin';

/** The permission catalogue's names (packages/core `PERMISSIONS`; `test/rest-types.test.ts` keeps this in step). */
export type Permission =
  | 'org:read'
  | 'org:update'
  | 'org:delete'
  | 'org:two-factor-policy'
  | 'members:read'
  | 'members:manage'
  | 'members:invite'
  | 'members:leave'
  | 'keys:manage-org'
  | 'audit:read'
  | 'projects:read'
  | 'projects:write'
  | 'projects:delete'
  | 'datasets:read'
  | 'datasets:write'
  | 'datasets:delete'
  | 'runs:read'
  | 'runs:write';

export interface Me {
  key: {
    id: string;
    name: string;
    hint: string;
    role: KeyRole;
    /** Organization ids the key is limited to; null for all of its creator's. */
    scope: string[] | null;
    expiresAt: string | null;
    /** The key expires within 7 days: rotate it. */
    expiresSoon: boolean;
    /** The permissions the key was restricted to at creation; null = everything its role allows. */
    permissions: Permission[] | null;
    /** CIDR ranges the key may be used from; null = anywhere. */
    allowedIps: string[] | null;
  };
  creator: { id: string; name: string; email: string };
  organizations: {
    id: string;
    name: string;
    creatorRole: Role;
    effectiveRole: KeyRole;
    /** What the key may do there: its restriction ∩ what its effective role allows a key. */
    permissions: Permission[];
  }[];
}

export interface ApiStatus {
  status: 'ok';
  version: string;
  time: string;
}

export interface Project {
  id: string;
  orgId: string;
  name: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectPage {
  items: Project[];
  total: number;
}

export interface NewProject {
  name: string;
  description?: string | null | undefined;
}

export interface ProjectPatch {
  name?: string | undefined;
  description?: string | null | undefined;
}

/** One page of a cursor-paginated listing: pass `nextCursor` back as `cursor` until it is null. */
export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Dataset {
  id: string;
  orgId: string;
  projectId: string;
  name: string;
  description: string | null;
  itemCount: number;
  createdBy: string;
  createdAt: string;
}

export interface NewDataset {
  name: string;
  description?: string | null | undefined;
}

export type ItemKind = 'file' | 'text';

export interface Item {
  id: string;
  externalId: string;
  kind: ItemKind;
  /** The file's name; null for a text item. */
  name: string | null;
  mediaType: string;
  size: number;
  /** Hex SHA-256 of the content bytes (a text's UTF-8 bytes). */
  sha256: string;
  createdAt: string;
}

/** One item as `items.get` answers it: a text item's text too. */
export interface ItemDetail extends Item {
  text: string | null;
}

/** What `fields=externalId` listings answer: enough to know what is already uploaded. */
export interface ItemId {
  id: string;
  externalId: string;
}

export interface TextItem {
  externalId: string;
  text: string;
}

/** One file of an upload batch. `externalId` defaults to `name`. */
export interface FileItem {
  name: string;
  content: Blob | Uint8Array;
  /** Defaults to `application/octet-stream`. */
  mediaType?: string | undefined;
  externalId?: string | undefined;
}

/**
 * One item's outcome in a batch: `created` and `exists` (the same externalId with the same content was already
 * there: a safe retry) carry `itemId`; other content under an existing externalId is `rejected` with `error`
 * (code CONFLICT).
 */
export interface ItemResult {
  externalId: string;
  status: 'created' | 'exists' | 'rejected';
  itemId?: string | undefined;
  error?: { code: 'CONFLICT'; message: string } | undefined;
}

export interface UploadSummary {
  results: ItemResult[];
  created: number;
  existing: number;
  rejected: number;
}

export type Verdict = 'pass' | 'flag' | 'fail';
export type FindingVerdict = 'flag' | 'fail';
export type CheckName =
  | 'empty'
  | 'size'
  | 'length'
  | 'mediaType'
  | 'duplicate'
  | 'nearDuplicate'
  | 'bannedTerms'
  | 'controlCharacters'
  | 'urls';

export type CheckSpec =
  | { check: 'empty'; verdict: FindingVerdict }
  | { check: 'size'; min?: number; max?: number; verdict: FindingVerdict }
  | { check: 'length'; min?: number; max?: number; verdict: FindingVerdict }
  | { check: 'mediaType'; allowed: string[]; verdict: FindingVerdict }
  | { check: 'duplicate'; verdict: FindingVerdict }
  | { check: 'nearDuplicate'; verdict: FindingVerdict }
  | { check: 'bannedTerms'; terms: string[]; verdict: FindingVerdict }
  | { check: 'controlCharacters'; verdict: FindingVerdict }
  | { check: 'urls'; verdict: FindingVerdict };

/** A verification pipeline: checks run in order; an item's verdict is the worst of theirs. */
export interface PipelineSpec {
  version: 1;
  checks: CheckSpec[];
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Run {
  id: string;
  datasetId: string;
  projectId: string;
  status: RunStatus;
  total: number;
  processed: number;
  counts: Record<Verdict, number>;
  pipeline: PipelineSpec;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Reason {
  /** A `CheckName` today; typed as the API documents it (any string), so a new check never breaks a client. */
  check: string;
  verdict: FindingVerdict;
  reason: string;
}

export interface RunResult {
  itemId: string;
  externalId: string;
  verdict: Verdict;
  reasons: Reason[];
}
