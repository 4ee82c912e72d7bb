import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLE } from './errors.ts';
import {
  findInputProblem,
  jsonDepthExceeds,
  MAX_BATCH_CALLS,
  MAX_JSON_DEPTH,
  replaceUnsafeText,
  textProblem,
} from './input-boundary.ts';

function nested(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('textProblem', () => {
  it('refuses NUL and lone surrogates, accepts paired ones', () => {
    expect(textProblem('a\u0000b')).toBe('nul');
    expect(textProblem('\ud800')).toBe('lone-surrogate');
    expect(textProblem('x\udc00y')).toBe('lone-surrogate');
    expect(textProblem('\ud800x')).toBe('lone-surrogate');
    expect(textProblem('😀 café')).toBeNull();
    expect(textProblem('')).toBeNull();
  });

  it('property: agrees with the platform’s well-formedness check and NUL search', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const wellFormed = (s as unknown as { isWellFormed(): boolean }).isWellFormed();
        const expected = s.includes('\u0000') ? true : !wellFormed;
        expect(textProblem(s) !== null).toBe(expected);
      }),
    );
  });

  it('property: any problem survives being embedded in safe text', () => {
    const safe = fc.string({ unit: 'grapheme' }).filter((s) => textProblem(s) === null);
    fc.assert(
      fc.property(safe, fc.constantFrom('\u0000', '\ud800', '\udfff'), safe, (a, bad, b) => {
        expect(textProblem(a + bad + b)).not.toBeNull();
      }),
    );
  });
});

describe('replaceUnsafeText', () => {
  it('property: the result is always safe, and safe text is left alone', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = replaceUnsafeText(s);
        expect(textProblem(out)).toBeNull();
        expect(out.length).toBe(s.length);
        if (textProblem(s) === null) expect(out).toBe(s);
      }),
    );
  });
});

describe('findInputProblem', () => {
  it('names the field, in batches and arrays too', () => {
    expect(findInputProblem({ name: 'ok', description: 'x\u0000' })).toEqual({
      kind: 'nul',
      path: 'description',
    });
    expect(findInputProblem({ keys: ['ok', '\ud800'] })).toEqual({ kind: 'lone-surrogate', path: 'keys.1' });
    expect(findInputProblem({ 'k\u0000': 1 })).toEqual({ kind: 'nul', path: 'k\ufffd' });
    expect(findInputProblem({ a: { '\udc00': 1 } })).toEqual({ kind: 'lone-surrogate', path: 'a.\ufffd' });
    expect(findInputProblem('\u0000')).toEqual({ kind: 'nul', path: '(input)' });
    expect(findInputProblem({ a: 1, b: null, c: [true] })).toBeNull();
  });

  it('reports the first offending field in document order', () => {
    expect(findInputProblem({ a: 'x\u0000', b: '\ud800' })?.path).toBe('a');
  });

  it('stops at the depth limit without recursing', () => {
    expect(findInputProblem(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(findInputProblem(nested(MAX_JSON_DEPTH + 1))?.kind).toBe('too-deep');
    expect(findInputProblem(nested(100_000))?.kind).toBe('too-deep');
  });

  it('property: a bad string anywhere in a JSON value is found, at its path', () => {
    const safeJson = fc.jsonValue({ maxDepth: 4 }).filter((v) => findInputProblem(v) === null);
    fc.assert(
      fc.property(
        safeJson,
        fc.constantFrom('\u0000', '\ud800'),
        fc.string({ maxLength: 5 }),
        (value, bad, key) => {
          const safeKey = replaceUnsafeText(key).replaceAll('\ufffd', '').replaceAll('.', '') || 'k';
          const wrapped = { outer: [value, { [safeKey]: `x${bad}` }] };
          const problem = findInputProblem(wrapped);
          expect(problem).not.toBeNull();
          // The safe value comes first in document order, so the problem is the planted one.
          expect(problem?.path).toBe(`outer.1.${safeKey}`);
        },
      ),
    );
  });
});

describe('jsonDepthExceeds', () => {
  it('counts brackets outside strings only', () => {
    expect(jsonDepthExceeds(JSON.stringify(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '['.repeat(1000) }))).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ s: '\\"[[[' }))).toBe(false);
  });

  it('property: agrees with findInputProblem on the depth of the value it encodes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (value, limit) => {
        const depth = (v: unknown): number =>
          typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;
        expect(jsonDepthExceeds(JSON.stringify(value), limit)).toBe(depth(value) > limit);
        expect(findInputProblem(value, limit)?.kind === 'too-deep').toBe(depth(value) > limit);
      }),
    );
  });
});

describe('batch limit', () => {
  it('is the number the error message states', () => {
    expect(ERROR_TABLE.BATCH_TOO_LARGE.message).toContain(`at most ${MAX_BATCH_CALLS} calls`);
  });
});
