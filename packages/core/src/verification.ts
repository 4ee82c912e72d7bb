import { createHash } from 'node:crypto';
import type { FieldError } from './errors.ts';

/**
 * The verification pipeline as data: an ordered list of deterministic checks with parameters. Judging an item runs
 * every check; each says pass, flag or fail with a reason, and the item's verdict is the worst of them.
 *
 * Two checks need the dataset around the item (exact and near duplicates). Their "first occurrence" is defined by
 * a stable order — item creation time, then item id — so that judging a dataset at once (`judgeDataset`) and
 * judging it chunk by chunk (`judgeChunk`, fed the duplicate keys of every earlier item) give identical verdicts.
 */

export const VERDICTS = ['pass', 'flag', 'fail'] as const;
export type Verdict = (typeof VERDICTS)[number];
/** What a triggered check yields: a pass is the absence of a finding. */
export type FindingVerdict = Exclude<Verdict, 'pass'>;

const SEVERITY: Record<Verdict, number> = { pass: 0, flag: 1, fail: 2 };

/** The worst of some verdicts; `pass` for none. */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'pass';
  for (const v of verdicts) if (SEVERITY[v] > SEVERITY[worst]) worst = v;
  return worst;
}

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
  /** Text that is empty or only whitespace; a file of zero bytes. */
  | { check: 'empty'; verdict: FindingVerdict }
  /** Content size in bytes (files and the UTF-8 bytes of texts). */
  | { check: 'size'; min?: number; max?: number; verdict: FindingVerdict }
  /** Text length in Unicode code points (text items only). */
  | { check: 'length'; min?: number; max?: number; verdict: FindingVerdict }
  /** Media type essence (no parameters, lower case) against a list; `type/*` matches a whole top-level type. */
  | { check: 'mediaType'; allowed: string[]; verdict: FindingVerdict }
  /** The same SHA-256 as an earlier item of the dataset. */
  | { check: 'duplicate'; verdict: FindingVerdict }
  /** The same text as an earlier text item once both are normalised (see `normalizeText`). */
  | { check: 'nearDuplicate'; verdict: FindingVerdict }
  /** A banned term as a whole word or phrase of the normalised text. */
  | { check: 'bannedTerms'; terms: string[]; verdict: FindingVerdict }
  /** C0/C1 control characters other than tab, line feed and carriage return, and bidirectional overrides. */
  | { check: 'controlCharacters'; verdict: FindingVerdict }
  /** An http(s) URL or a www. address in the text. */
  | { check: 'urls'; verdict: FindingVerdict };

export interface PipelineSpec {
  version: 1;
  checks: CheckSpec[];
}

export const CHECK_NAMES: readonly CheckName[] = [
  'empty',
  'size',
  'length',
  'mediaType',
  'duplicate',
  'nearDuplicate',
  'bannedTerms',
  'controlCharacters',
  'urls',
];

export const PIPELINE_LIMITS = {
  maxChecks: 32,
  maxTerms: 500,
  maxTermLength: 100,
  maxMediaTypes: 50,
  maxMediaTypeLength: 127,
  /** Above the largest item anyone can upload; bounds are plain non-negative integers. */
  maxBound: 2 ** 40,
} as const;

/** What the platform runs when a run names no pipeline. Files of unusual types and texts with links are flagged. */
export const DEFAULT_PIPELINE: PipelineSpec = {
  version: 1,
  checks: [
    { check: 'empty', verdict: 'fail' },
    { check: 'size', max: 10 * 1024 * 1024, verdict: 'fail' },
    { check: 'length', max: 65_536, verdict: 'fail' },
    {
      check: 'mediaType',
      allowed: ['text/*', 'image/*', 'application/pdf', 'application/json'],
      verdict: 'flag',
    },
    { check: 'duplicate', verdict: 'flag' },
    { check: 'nearDuplicate', verdict: 'flag' },
    { check: 'controlCharacters', verdict: 'fail' },
    { check: 'urls', verdict: 'flag' },
  ],
};

/** What a check sees of an item: metadata and text, never file bytes (no check reads them). */
export interface PipelineItem {
  id: string;
  /**
   * Creation time as a number in the store's finest unit (the API uses epoch microseconds, PostgreSQL's precision):
   * with `id`, the dataset order that defines "earlier".
   */
  createdAt: number;
  kind: 'file' | 'text';
  mediaType: string;
  size: number;
  sha256: string;
  text: string | null;
}

export interface Reason {
  check: CheckName;
  verdict: FindingVerdict;
  reason: string;
}

export interface ItemJudgement {
  itemId: string;
  verdict: Verdict;
  /** One entry per check that did not pass, in pipeline order. A pass has none. */
  reasons: Reason[];
}

/** The keys by which items count as duplicates of each other. */
export interface DuplicateKeys {
  /** The content's SHA-256 (hex). */
  exact: string;
  /** SHA-256 of the normalised text; null for files and for texts that normalise to nothing. */
  near: string | null;
}

/** Keys of items earlier (in dataset order) than the ones being judged. */
export interface PriorKeys {
  exact: ReadonlySet<string>;
  near: ReadonlySet<string>;
}

/** Dataset order: creation time, then id (compared as strings, which for UUIDs is byte order). */
export function compareItemOrder(
  a: Pick<PipelineItem, 'createdAt' | 'id'>,
  b: Pick<PipelineItem, 'createdAt' | 'id'>,
): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const PUNCTUATION_OR_SYMBOL = /[\p{P}\p{S}]+/gu;
const WHITESPACE = /\s+/gu;

/**
 * Text as the near-duplicate and banned-term checks compare it: Unicode NFKC (full-width and compatibility forms
 * fold to their plain letters), lower case, punctuation and symbols as spaces, whitespace collapsed and trimmed.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(PUNCTUATION_OR_SYMBOL, ' ')
    .replace(WHITESPACE, ' ')
    .trim();
}

export function duplicateKeys(item: Pick<PipelineItem, 'kind' | 'sha256' | 'text'>): DuplicateKeys {
  if (item.kind !== 'text' || item.text === null) return { exact: item.sha256, near: null };
  const normalized = normalizeText(item.text);
  return {
    exact: item.sha256,
    near: normalized === '' ? null : createHash('sha256').update(normalized, 'utf8').digest('hex'),
  };
}

function mediaTypeEssence(mediaType: string): string {
  return (mediaType.split(';')[0] ?? '').trim().toLowerCase();
}

function mediaTypeAllowed(mediaType: string, allowed: readonly string[]): boolean {
  const essence = mediaTypeEssence(mediaType);
  const top = essence.split('/')[0];
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    return p === essence || (p.endsWith('/*') && p.slice(0, -2) === top);
  });
}

// Tab, LF and CR are ordinary text; the rest of C0, DEL, C1 and the bidirectional embedding/override/isolate
// controls (the "Trojan Source" characters) are not. Compared by code point: a regex of control characters is
// what a linter rightly distrusts.
function isControlCharacter(code: number): boolean {
  if (code === 0x09 || code === 0x0a || code === 0x0d) return false;
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function firstControlCharacter(text: string): number | null {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (isControlCharacter(code)) return code;
  }
  return null;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+|\bwww\.[^\s<>"']+\.[^\s<>"']+/giu;

function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function boundsProblem(
  value: number,
  min: number | undefined,
  max: number | undefined,
  unit: string,
): string | null {
  if (min !== undefined && value < min) return `${value} ${unit}, below the minimum of ${min}`;
  if (max !== undefined && value > max) return `${value} ${unit}, above the maximum of ${max}`;
  return null;
}

interface ItemContext {
  item: PipelineItem;
  keys: DuplicateKeys;
  earlierExact: boolean;
  earlierNear: boolean;
  /** Normalised text, computed once per item when a check needs it. */
  normalized: () => string;
}

/** The reason a check triggers on an item, or null when it passes. */
function runCheck(spec: CheckSpec, ctx: ItemContext): string | null {
  const { item } = ctx;
  const text = item.kind === 'text' ? item.text : null;
  switch (spec.check) {
    case 'empty':
      if (text !== null) return /^\s*$/u.test(text) ? 'The text is empty or only whitespace.' : null;
      return item.size === 0 ? 'The file is empty (0 bytes).' : null;
    case 'size': {
      const problem = boundsProblem(item.size, spec.min, spec.max, 'bytes');
      return problem === null ? null : `Size is ${problem}.`;
    }
    case 'length': {
      if (text === null) return null;
      const problem = boundsProblem(codePointLength(text), spec.min, spec.max, 'characters');
      return problem === null ? null : `Length is ${problem}.`;
    }
    case 'mediaType':
      return mediaTypeAllowed(item.mediaType, spec.allowed)
        ? null
        : `Media type ${mediaTypeEssence(item.mediaType) || '(none)'} is not allowed.`;
    case 'duplicate':
      return ctx.earlierExact ? 'An earlier item of the dataset has the same content (SHA-256).' : null;
    case 'nearDuplicate':
      return ctx.earlierNear
        ? 'An earlier text item of the dataset has the same text once case, whitespace and punctuation are ignored.'
        : null;
    case 'bannedTerms': {
      if (text === null) return null;
      const padded = ` ${ctx.normalized()} `;
      const found: string[] = [];
      for (const term of spec.terms) {
        const t = normalizeText(term);
        if (t !== '' && padded.includes(` ${t} `) && !found.includes(t)) found.push(t);
      }
      return found.length === 0
        ? null
        : `Contains banned ${found.length === 1 ? 'term' : 'terms'}: ${found.join(', ')}.`;
    }
    case 'controlCharacters': {
      if (text === null) return null;
      const code = firstControlCharacter(text);
      if (code === null) return null;
      return `Contains control character U+${code.toString(16).toUpperCase().padStart(4, '0')}.`;
    }
    case 'urls': {
      if (text === null) return null;
      const count = text.match(URL_PATTERN)?.length ?? 0;
      return count === 0 ? null : `Contains ${count} ${count === 1 ? 'URL' : 'URLs'}.`;
    }
  }
}

/** Judge one item, given whether an earlier item shares its exact or near-duplicate key. */
export function judgeItem(
  pipeline: PipelineSpec,
  item: PipelineItem,
  earlier: { exact: boolean; near: boolean },
): ItemJudgement {
  const keys = duplicateKeys(item);
  let normalized: string | undefined;
  const ctx: ItemContext = {
    item,
    keys,
    earlierExact: earlier.exact,
    earlierNear: keys.near !== null && earlier.near,
    normalized: () => {
      normalized ??= normalizeText(item.text ?? '');
      return normalized;
    },
  };
  const reasons: Reason[] = [];
  for (const spec of pipeline.checks) {
    const reason = runCheck(spec, ctx);
    if (reason !== null) reasons.push({ check: spec.check, verdict: spec.verdict, reason });
  }
  return { itemId: item.id, verdict: worstVerdict(reasons.map((r) => r.verdict)), reasons };
}

/**
 * Judge a chunk of consecutive items, given the duplicate keys of every item before the chunk in dataset order.
 * The chunk is judged in dataset order whatever order it is passed in; the answer lists judgements in that order.
 */
export function judgeChunk(
  pipeline: PipelineSpec,
  items: readonly PipelineItem[],
  prior: PriorKeys,
): ItemJudgement[] {
  const sorted = [...items].sort(compareItemOrder);
  const exact = new Set<string>();
  const near = new Set<string>();
  return sorted.map((item) => {
    const keys = duplicateKeys(item);
    const judgement = judgeItem(pipeline, item, {
      exact: prior.exact.has(keys.exact) || exact.has(keys.exact),
      near: keys.near !== null && (prior.near.has(keys.near) || near.has(keys.near)),
    });
    exact.add(keys.exact);
    if (keys.near !== null) near.add(keys.near);
    return judgement;
  });
}

/** Judge a whole dataset at once: what a run over it must produce, however it was chunked. */
export function judgeDataset(pipeline: PipelineSpec, items: readonly PipelineItem[]): ItemJudgement[] {
  return judgeChunk(pipeline, items, { exact: new Set(), near: new Set() });
}

/** The number of items per verdict. */
export function countVerdicts(judgements: Iterable<{ verdict: Verdict }>): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { pass: 0, flag: 0, fail: 0 };
  for (const j of judgements) counts[j.verdict]++;
  return counts;
}

export type PipelineValidation = { ok: true; pipeline: PipelineSpec } | { ok: false; errors: FieldError[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ALLOWED_KEYS: Record<CheckName, readonly string[]> = {
  empty: ['check', 'verdict'],
  size: ['check', 'verdict', 'min', 'max'],
  length: ['check', 'verdict', 'min', 'max'],
  mediaType: ['check', 'verdict', 'allowed'],
  duplicate: ['check', 'verdict'],
  nearDuplicate: ['check', 'verdict'],
  bannedTerms: ['check', 'verdict', 'terms'],
  controlCharacters: ['check', 'verdict'],
  urls: ['check', 'verdict'],
};

const MEDIA_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/i;

function isBound(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= 0 &&
    value <= PIPELINE_LIMITS.maxBound
  );
}

function validateStringList(
  value: unknown,
  path: string,
  maxItems: number,
  maxLength: number,
  valid: (s: string) => boolean,
  what: string,
  errors: FieldError[],
): string[] | null {
  if (!Array.isArray(value) || value.length === 0 || value.length > maxItems) {
    errors.push({ path, message: `A list of 1 to ${maxItems} ${what}.` });
    return null;
  }
  const out: string[] = [];
  value.forEach((entry, i) => {
    if (typeof entry !== 'string' || entry.length === 0 || entry.length > maxLength || !valid(entry))
      errors.push({
        path: `${path}.${i}`,
        message: `Each entry must be a valid ${what.replace(/s$/, '')} of at most ${maxLength} characters.`,
      });
    else out.push(entry);
  });
  return out;
}

function validateCheck(value: unknown, path: string, errors: FieldError[]): CheckSpec | null {
  if (
    !isRecord(value) ||
    typeof value.check !== 'string' ||
    !CHECK_NAMES.includes(value.check as CheckName)
  ) {
    errors.push({ path: `${path}.check`, message: `One of: ${CHECK_NAMES.join(', ')}.` });
    return null;
  }
  const check = value.check as CheckName;
  const before = errors.length;
  for (const key of Object.keys(value))
    if (!ALLOWED_KEYS[check].includes(key))
      errors.push({ path: `${path}.${key}`, message: `Not a parameter of the ${check} check.` });
  const verdict = value.verdict;
  if (verdict !== 'flag' && verdict !== 'fail')
    errors.push({
      path: `${path}.verdict`,
      message: 'What the check yields when it triggers: flag or fail.',
    });
  const v: FindingVerdict = verdict === 'flag' ? 'flag' : 'fail';
  switch (check) {
    case 'size':
    case 'length': {
      const { min, max } = value;
      if (min !== undefined && !isBound(min))
        errors.push({ path: `${path}.min`, message: 'A non-negative integer.' });
      if (max !== undefined && !isBound(max))
        errors.push({ path: `${path}.max`, message: 'A non-negative integer.' });
      if (min === undefined && max === undefined) errors.push({ path, message: 'Give min, max or both.' });
      if (isBound(min) && isBound(max) && min > max)
        errors.push({ path: `${path}.min`, message: 'min must not exceed max.' });
      if (errors.length > before) return null;
      return {
        check,
        ...(isBound(min) ? { min } : {}),
        ...(isBound(max) ? { max } : {}),
        verdict: v,
      };
    }
    case 'mediaType': {
      const allowed = validateStringList(
        value.allowed,
        `${path}.allowed`,
        PIPELINE_LIMITS.maxMediaTypes,
        PIPELINE_LIMITS.maxMediaTypeLength,
        (s) => MEDIA_TYPE_PATTERN.test(s),
        'media types',
        errors,
      );
      return errors.length > before || allowed === null ? null : { check, allowed, verdict: v };
    }
    case 'bannedTerms': {
      const terms = validateStringList(
        value.terms,
        `${path}.terms`,
        PIPELINE_LIMITS.maxTerms,
        PIPELINE_LIMITS.maxTermLength,
        (s) => normalizeText(s) !== '',
        'terms',
        errors,
      );
      return errors.length > before || terms === null ? null : { check, terms, verdict: v };
    }
    default:
      return errors.length > before ? null : { check, verdict: v };
  }
}

/**
 * Validate a pipeline definition from outside (an API body, a stored snapshot). Unknown checks and parameters are
 * refused rather than ignored, so a typo never silently weakens a pipeline. The answer is a fresh copy.
 */
export function validatePipelineSpec(value: unknown): PipelineValidation {
  const errors: FieldError[] = [];
  if (!isRecord(value))
    return { ok: false, errors: [{ path: '', message: 'A pipeline object: {version, checks}.' }] };
  for (const key of Object.keys(value))
    if (key !== 'version' && key !== 'checks') errors.push({ path: key, message: 'Not a pipeline field.' });
  if (value.version !== 1) errors.push({ path: 'version', message: 'Must be 1.' });
  const checks: CheckSpec[] = [];
  if (
    !Array.isArray(value.checks) ||
    value.checks.length === 0 ||
    value.checks.length > PIPELINE_LIMITS.maxChecks
  ) {
    errors.push({ path: 'checks', message: `A list of 1 to ${PIPELINE_LIMITS.maxChecks} checks.` });
  } else {
    value.checks.forEach((c, i) => {
      const spec = validateCheck(c, `checks.${i}`, errors);
      if (spec !== null) checks.push(spec);
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, pipeline: { version: 1, checks } };
}

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Whether a run may still change: polled while so, cancellable while so. */
export function runIsActive(status: RunStatus): boolean {
  return status === 'queued' || status === 'running';
}

/**
 * When a poller should ask again (`Retry-After`, seconds), or null once the run is finished. A queued run waits for
 * a worker; a running one changes every chunk.
 */
export function runPollAfterSeconds(status: RunStatus): number | null {
  if (status === 'queued') return 5;
  if (status === 'running') return 2;
  return null;
}
