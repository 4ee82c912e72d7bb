/**
 * What any request input must satisfy before a procedure sees it, whatever the procedure: strings carry no NUL and
 * no lone UTF-16 surrogate (PostgreSQL refuses the first and cannot encode the second, and both confuse logs and
 * downstream parsers), JSON nests at most `MAX_JSON_DEPTH` deep, a tRPC batch holds at most `MAX_BATCH_CALLS` calls.
 */
export const MAX_JSON_DEPTH = 64;
export const MAX_BATCH_CALLS = 20;

export type TextProblem = 'nul' | 'lone-surrogate';

/** The first reason `text` is not safe to store, or null. Lone surrogates are checked by code unit, not by regex. */
export function textProblem(text: string): TextProblem | null {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0) return 'nul';
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : -1;
      if (next < 0xdc00 || next > 0xdfff) return 'lone-surrogate';
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return 'lone-surrogate';
    }
  }
  return null;
}

export type InputProblem =
  | { kind: TextProblem; path: string }
  | { kind: 'too-deep'; path: string; maxDepth: number };

export const INPUT_PROBLEM_MESSAGES: Record<InputProblem['kind'], string> = {
  nul: 'NUL characters are not allowed.',
  'lone-surrogate': 'Text must be valid Unicode (no lone UTF-16 surrogates).',
  'too-deep': `Nested deeper than ${MAX_JSON_DEPTH} levels.`,
};

/** `text` with every NUL and lone surrogate replaced by U+FFFD (paired surrogates kept). */
export function replaceUnsafeText(text: string): string {
  if (textProblem(text) === null) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : -1;
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += text.slice(i, i + 2);
      i++;
    } else if (unit === 0 || (unit >= 0xd800 && unit <= 0xdfff)) {
      out += '\ufffd';
    } else {
      out += text[i];
    }
  }
  return out;
}

/** Paths go back to the client and into logs: an offending key is shown with U+FFFD in place of its bad units. */
function joinPath(parent: string, key: string | number): string {
  const shown = typeof key === 'string' ? replaceUnsafeText(key) : String(key);
  return parent === '' ? shown : `${parent}.${shown}`;
}

/**
 * Walks a parsed input (JSON-like: objects, arrays, strings, numbers) and returns the first problem with the
 * dotted path of the field, or null. Object keys are checked too: they become field names in our errors and logs.
 * Iterative, so a hostile nesting depth cannot overflow the stack before the depth limit answers.
 */
export function findInputProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): InputProblem | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item) break;
    const current = item.value;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return { kind: problem, path: item.path || '(input)' };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (item.depth >= maxDepth) return { kind: 'too-deep', path: item.path || '(input)', maxDepth };
    const entries: [string | number, unknown][] = Array.isArray(current)
      ? current.map((v, i) => [i, v])
      : Object.entries(current);
    // Pushed in reverse so the first offending field (in document order) is the one reported.
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (!entry) continue;
      const [key, child] = entry;
      const path = joinPath(item.path, key);
      if (typeof key === 'string') {
        const problem = textProblem(key);
        if (problem) return { kind: problem, path };
      }
      stack.push({ value: child, path, depth: item.depth + 1 });
    }
  }
  return null;
}

/**
 * The deepest nesting of arrays and objects in JSON text, scanning at most until `limit` is exceeded. Works on the
 * raw text, before any parser or validator recurses into it; brackets inside strings do not count.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
