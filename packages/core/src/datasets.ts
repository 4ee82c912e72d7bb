import { textProblem } from './input-boundary.ts';

/**
 * Datasets and their items: the limits every transport enforces, the rule for a caller's `externalId`, and what one
 * upload batch answers for each of its items. Pure: the API feeds in what the database holds.
 */
export const DATASET_NAME_MAX_LENGTH = 100;
export const EXTERNAL_ID_MAX_LENGTH = 200;
/** A text item's UTF-8 bytes. */
export const ITEM_TEXT_MAX_BYTES = 64 * 1024;
/** Default of `ITEM_FILE_MAX_BYTES`: one file's bytes. */
export const ITEM_FILE_MAX_BYTES_DEFAULT = 10 * 1024 * 1024;
export const TEXT_ITEMS_PER_REQUEST_MAX = 1000;
export const FILES_PER_REQUEST_MAX = 100;
export const ITEM_NAME_MAX_LENGTH = 255;
export const MEDIA_TYPE_MAX_LENGTH = 255;

export const ITEM_KINDS = ['file', 'text'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** Page sizes of item listings: a plain page, and the much lighter `fields=externalId` page resuming uploads read. */
export const ITEM_PAGE_MAX = 100;
export const ITEM_ID_PAGE_MAX = 1000;
export const PAGE_DEFAULT = 50;

export type ExternalIdProblem = 'empty' | 'too-long' | 'control-character' | 'invalid-unicode';

export const EXTERNAL_ID_MESSAGES: Record<ExternalIdProblem, string> = {
  empty: 'An externalId needs at least one character.',
  'too-long': `An externalId has at most ${EXTERNAL_ID_MAX_LENGTH} characters.`,
  'control-character': 'An externalId may not contain control characters.',
  'invalid-unicode': 'An externalId must be valid Unicode (no NUL, no lone surrogates).',
};

/**
 * Why a caller's `externalId` cannot be stored, or null. Counted in Unicode code points (what a person calls
 * characters); control characters are refused because ids end up in file names, CSV and terminal output.
 */
export function externalIdProblem(externalId: string): ExternalIdProblem | null {
  if (textProblem(externalId) !== null) return 'invalid-unicode';
  const points = [...externalId];
  if (points.length === 0) return 'empty';
  if (points.length > EXTERNAL_ID_MAX_LENGTH) return 'too-long';
  if (points.some(isControl)) return 'control-character';
  return null;
}

/** Why an uploaded file's name or media type cannot be stored (a message), or null. */
export function fileNameProblem(name: string): string | null {
  if (textProblem(name) !== null) return 'A file name must be valid Unicode (no NUL, no lone surrogates).';
  const points = [...name];
  if (points.length === 0)
    return 'Every file part needs a file name (filename="…" in its Content-Disposition).';
  if (points.length > ITEM_NAME_MAX_LENGTH)
    return `A file name has at most ${ITEM_NAME_MAX_LENGTH} characters.`;
  if (points.some(isControl)) return 'A file name may not contain control characters.';
  return null;
}

/** `type/subtype` as RFC 6838 restricts their names (parameters are not kept). */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function mediaTypeProblem(mediaType: string): string | null {
  return MEDIA_TYPE.test(mediaType) ? null : 'A media type must look like type/subtype, e.g. image/png.';
}

function isControl(point: string): boolean {
  const code = point.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** One item of an upload batch, as the server hashed it. */
export interface BatchEntry {
  externalId: string;
  sha256: string;
}

/** What the dataset holds under an externalId after the batch's insert, and whether this batch inserted it. */
export interface StoredItem {
  id: string;
  sha256: string;
  insertedNow: boolean;
}

export type ItemResult =
  | { externalId: string; status: 'created'; itemId: string }
  | { externalId: string; status: 'exists'; itemId: string }
  | { externalId: string; status: 'rejected'; error: { code: 'CONFLICT'; message: string } };

export interface BatchResults {
  results: ItemResult[];
  created: number;
  existing: number;
  rejected: number;
}

export const CONFLICTING_CONTENT_MESSAGE =
  'An item with this externalId and different content is already in the dataset.';

/**
 * The per-item answer of a batch, in request order. An item is `created` if this batch stored it (only the first
 * of repeated externalIds in one batch can be); `exists` if the dataset holds the same bytes under its externalId (a
 * safe retry, or a repeat within the batch); `rejected` with CONFLICT if it holds other bytes there. Every entry's
 * externalId must be in `stored` (the caller inserted or looked up each one).
 */
export function batchResults(
  entries: readonly BatchEntry[],
  stored: ReadonlyMap<string, StoredItem>,
): BatchResults {
  const seen = new Set<string>();
  const results: ItemResult[] = [];
  let created = 0;
  let existing = 0;
  let rejected = 0;
  for (const entry of entries) {
    const item = stored.get(entry.externalId);
    if (item === undefined) throw new Error(`batchResults: nothing stored under ${entry.externalId}`);
    const first = !seen.has(entry.externalId);
    seen.add(entry.externalId);
    if (item.sha256 !== entry.sha256) {
      results.push({
        externalId: entry.externalId,
        status: 'rejected',
        error: { code: 'CONFLICT', message: CONFLICTING_CONTENT_MESSAGE },
      });
      rejected++;
    } else if (item.insertedNow && first) {
      results.push({ externalId: entry.externalId, status: 'created', itemId: item.id });
      created++;
    } else {
      results.push({ externalId: entry.externalId, status: 'exists', itemId: item.id });
      existing++;
    }
  }
  return { results, created, existing, rejected };
}

/**
 * The first entry of each externalId, sorted by externalId: what a batch inserts. Sorting makes every batch take
 * its row locks in the same order, so two batches racing over the same ids wait for each other and never deadlock.
 */
export function entriesToInsert<T extends { externalId: string }>(entries: readonly T[]): T[] {
  const firsts = new Map<string, T>();
  for (const entry of entries) if (!firsts.has(entry.externalId)) firsts.set(entry.externalId, entry);
  return [...firsts.values()].sort((a, b) =>
    a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0,
  );
}

/* ------------------------------------------------------------------------------------------------- page cursors */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A position in a listing ordered by (createdAt, id): opaque to callers (base64url), checked fully when read. */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

export function encodePageCursor(position: PagePosition): string {
  const text = `${position.createdAt.toISOString()}|${position.id}`;
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The position a cursor names, or null if it is not exactly one of ours: nothing else ever reaches SQL. */
export function decodePageCursor(cursor: string): PagePosition | null {
  if (cursor.length === 0 || cursor.length > 128 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let text: string;
  try {
    text = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return null;
  }
  const parts = text.split('|');
  if (parts.length !== 2) return null;
  const [at = '', id = ''] = parts;
  if (!ISO.test(at) || !UUID.test(id)) return null;
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== at) return null;
  return { createdAt, id };
}

/* ------------------------------------------------------------------------------------------ idempotency keys */

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** How long a stored answer can be replayed. */
export const IDEMPOTENCY_RECORD_TTL_MS = 24 * 60 * 60 * 1000;

/** An `Idempotency-Key` is 1–255 printable ASCII characters (space to tilde). */
export function isValidIdempotencyKey(key: string): boolean {
  return key.length >= 1 && key.length <= IDEMPOTENCY_KEY_MAX_LENGTH && /^[\x20-\x7e]+$/.test(key);
}

export type IdempotencyDecision = 'proceed' | 'replay' | 'reused' | 'in-use';

export interface StoredIdempotency {
  method: string;
  path: string;
  fingerprint: string | null;
  /** Null while the first request is still running. */
  status: number | null;
  lockedUntil: Date;
  expiresAt: Date;
}

/**
 * What to do with a request that carries a key already on record for its sender: a finished record with the same
 * method, path and body is replayed, a different request under the same key is refused (422), a request whose
 * first twin is still running is refused (409), and an expired record — or an in-flight one whose node died and
 * whose lease ran out — no longer counts.
 */
export function idempotencyDecision(
  stored: StoredIdempotency,
  request: { method: string; path: string; fingerprint: string },
  now: Date,
): IdempotencyDecision {
  if (stored.expiresAt.getTime() <= now.getTime()) return 'proceed';
  if (stored.method !== request.method || stored.path !== request.path) return 'reused';
  if (stored.status === null) {
    if (stored.lockedUntil.getTime() <= now.getTime()) return 'proceed';
    // The first request's body may not be hashed yet (a multipart upload still streaming): then only "in use".
    return stored.fingerprint !== null && stored.fingerprint !== request.fingerprint ? 'reused' : 'in-use';
  }
  return stored.fingerprint === request.fingerprint ? 'replay' : 'reused';
}
