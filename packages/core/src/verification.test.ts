import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './secrets.ts';
import {
  type CheckSpec,
  compareItemOrder,
  countVerdicts,
  DEFAULT_PIPELINE,
  duplicateKeys,
  judgeChunk,
  judgeDataset,
  judgeItem,
  normalizeText,
  type PipelineItem,
  type PipelineSpec,
  VERDICTS,
  validatePipelineSpec,
  worstVerdict,
} from './verification.ts';

function textItem(id: string, text: string, createdAt = 0): PipelineItem {
  return {
    id,
    createdAt,
    kind: 'text',
    mediaType: 'text/plain; charset=utf-8',
    size: Buffer.byteLength(text, 'utf8'),
    sha256: sha256Hex(text),
    text,
  };
}

function fileItem(id: string, mediaType: string, size: number, sha256: string, createdAt = 0): PipelineItem {
  return { id, createdAt, kind: 'file', mediaType, size, sha256, text: null };
}

const only = (spec: CheckSpec): PipelineSpec => ({ version: 1, checks: [spec] });
const noEarlier = { exact: false, near: false };

describe('checks', () => {
  it('empty: whitespace-only text and zero-byte files fail', () => {
    const p = only({ check: 'empty', verdict: 'fail' });
    expect(judgeItem(p, textItem('a', ' \n\t\u00a0'), noEarlier).verdict).toBe('fail');
    expect(judgeItem(p, textItem('a', ' x '), noEarlier).verdict).toBe('pass');
    expect(judgeItem(p, fileItem('f', 'image/png', 0, 'e3'), noEarlier)).toMatchObject({
      verdict: 'fail',
      reasons: [{ check: 'empty', verdict: 'fail', reason: 'The file is empty (0 bytes).' }],
    });
  });

  it('size and length bounds, inclusive', () => {
    const size = only({ check: 'size', min: 2, max: 4, verdict: 'flag' });
    expect(judgeItem(size, textItem('a', 'ab'), noEarlier).verdict).toBe('pass');
    expect(judgeItem(size, textItem('a', 'abcd'), noEarlier).verdict).toBe('pass');
    expect(judgeItem(size, textItem('a', 'abcde'), noEarlier).reasons[0]?.reason).toBe(
      'Size is 5 bytes, above the maximum of 4.',
    );
    // Two code points, eight UTF-8 bytes: length counts characters, size counts bytes.
    const length = only({ check: 'length', max: 2, verdict: 'fail' });
    expect(judgeItem(length, textItem('a', '😀😀'), noEarlier).verdict).toBe('pass');
    expect(judgeItem(length, textItem('a', '😀😀😀'), noEarlier).verdict).toBe('fail');
    expect(judgeItem(length, fileItem('f', 'image/png', 9999, 'aa'), noEarlier).verdict).toBe('pass');
  });

  it('media types by essence, with type/* wildcards', () => {
    const p = only({ check: 'mediaType', allowed: ['image/*', 'text/plain'], verdict: 'flag' });
    expect(judgeItem(p, fileItem('f', 'IMAGE/PNG', 3, 'aa'), noEarlier).verdict).toBe('pass');
    expect(judgeItem(p, textItem('t', 'hi'), noEarlier).verdict).toBe('pass');
    expect(judgeItem(p, fileItem('f', 'application/zip', 3, 'aa'), noEarlier).reasons).toEqual([
      { check: 'mediaType', verdict: 'flag', reason: 'Media type application/zip is not allowed.' },
    ]);
    expect(judgeItem(p, fileItem('f', 'imagex/png', 3, 'aa'), noEarlier).verdict).toBe('flag');
  });

  it('banned terms as whole words of the normalised text', () => {
    const p = only({ check: 'bannedTerms', terms: ['Spam', 'buy now'], verdict: 'fail' });
    expect(judgeItem(p, textItem('a', 'No SPAM here!'), noEarlier).reasons[0]?.reason).toBe(
      'Contains banned term: spam.',
    );
    expect(judgeItem(p, textItem('a', 'ＢＵＹ—now, spam.'), noEarlier).reasons[0]?.reason).toBe(
      'Contains banned terms: spam, buy now.',
    );
    expect(judgeItem(p, textItem('a', 'spammer'), noEarlier).verdict).toBe('pass');
  });

  it('control characters except tab, LF, CR; bidi overrides count', () => {
    const p = only({ check: 'controlCharacters', verdict: 'fail' });
    expect(judgeItem(p, textItem('a', 'a\tb\r\nc'), noEarlier).verdict).toBe('pass');
    expect(judgeItem(p, textItem('a', 'a\u0007b'), noEarlier).reasons[0]?.reason).toBe(
      'Contains control character U+0007.',
    );
    expect(judgeItem(p, textItem('a', 'abc\u202edef'), noEarlier).verdict).toBe('fail');
  });

  it('urls', () => {
    const p = only({ check: 'urls', verdict: 'flag' });
    expect(
      judgeItem(p, textItem('a', 'see https://example.com/x and www.example.org'), noEarlier).reasons[0]
        ?.reason,
    ).toBe('Contains 2 URLs.');
    expect(judgeItem(p, textItem('a', 'no link, just www and http'), noEarlier).verdict).toBe('pass');
  });

  it('normalises with NFKC, case, punctuation and whitespace', () => {
    expect(normalizeText('  Ｈｅｌｌｏ,\n  WORLD!! ')).toBe('hello world');
    expect(normalizeText('ﬁne')).toBe('fine');
    expect(duplicateKeys(textItem('a', 'Hello, world')).near).toBe(
      duplicateKeys(textItem('b', 'hello   WORLD!')).near,
    );
    expect(duplicateKeys(textItem('a', '?!')).near).toBeNull();
    expect(duplicateKeys(fileItem('f', 'image/png', 1, 'ab')).near).toBeNull();
  });

  it('duplicates: the first in dataset order passes, later ones are flagged', () => {
    const items = [textItem('b', 'same', 5), textItem('a', 'same', 5), textItem('c', 'Same!', 1)];
    const out = judgeDataset(DEFAULT_PIPELINE, items);
    expect(out.map((j) => j.itemId)).toEqual(['c', 'a', 'b']);
    expect(out[0]?.verdict).toBe('pass');
    expect(out[1]?.reasons.map((r) => r.check)).toEqual(['nearDuplicate']);
    expect(out[2]?.reasons.map((r) => r.check)).toEqual(['duplicate', 'nearDuplicate']);
  });
});

describe('validatePipelineSpec', () => {
  it('accepts the default pipeline and returns a copy', () => {
    const r = validatePipelineSpec(DEFAULT_PIPELINE);
    expect(r).toEqual({ ok: true, pipeline: DEFAULT_PIPELINE });
    if (r.ok) expect(r.pipeline).not.toBe(DEFAULT_PIPELINE);
  });

  it('refuses unknown checks and parameters, bad bounds, bad verdicts', () => {
    const bad = (spec: unknown) => {
      const r = validatePipelineSpec(spec);
      return r.ok ? [] : r.errors.map((e) => e.path);
    };
    expect(bad(null)).toEqual(['']);
    expect(bad({ version: 2, checks: [] })).toEqual(['version', 'checks']);
    expect(bad({ version: 1, checks: [{ check: 'nope', verdict: 'fail' }] })).toEqual(['checks.0.check']);
    expect(bad({ version: 1, checks: [{ check: 'urls', verdict: 'pass' }] })).toEqual(['checks.0.verdict']);
    expect(bad({ version: 1, checks: [{ check: 'urls', verdict: 'flag', terms: ['x'] }] })).toEqual([
      'checks.0.terms',
    ]);
    expect(bad({ version: 1, checks: [{ check: 'size', min: 5, max: 4, verdict: 'flag' }] })).toEqual([
      'checks.0.min',
    ]);
    expect(bad({ version: 1, checks: [{ check: 'size', verdict: 'flag' }] })).toEqual(['checks.0']);
    expect(bad({ version: 1, checks: [{ check: 'size', min: -1, verdict: 'flag' }] })).toEqual([
      'checks.0.min',
    ]);
    expect(bad({ version: 1, checks: [{ check: 'mediaType', allowed: ['png'], verdict: 'flag' }] })).toEqual([
      'checks.0.allowed.0',
    ]);
    expect(bad({ version: 1, checks: [{ check: 'bannedTerms', terms: ['!!'], verdict: 'flag' }] })).toEqual([
      'checks.0.terms.0',
    ]);
    expect(bad({ version: 1, checks: [{ check: 'urls', verdict: 'flag' }], extra: 1 })).toEqual(['extra']);
  });
});

// Small alphabets so that duplicates, near duplicates, banned terms and URLs actually occur.
const textArb = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'hello',
    'Hello!',
    'HELLO',
    'spam',
    'buy now',
    'see https://x.io',
    'a\u0001b',
    'ﬁne',
    'fine',
  ),
  fc.string({ unit: fc.constantFrom('a', 'B', ' ', '.', '\n', '\u0007', 'ｈ', 'h', '😀'), maxLength: 8 }),
);
const hashes = ['aa', 'bb', 'cc', 'dd'];

function itemsArb(maxLength = 30): fc.Arbitrary<PipelineItem[]> {
  return fc
    .array(
      fc.oneof(
        fc
          .record({ text: textArb, createdAt: fc.integer({ min: 0, max: 5 }) })
          .map(({ text, createdAt }) => ({
            ...textItem('', text, createdAt),
          })),
        fc
          .record({
            mediaType: fc.constantFrom('image/png', 'application/zip', 'text/csv', 'application/pdf'),
            size: fc.integer({ min: 0, max: 20 }),
            sha256: fc.constantFrom(...hashes),
            createdAt: fc.integer({ min: 0, max: 5 }),
          })
          .map(({ mediaType, size, sha256, createdAt }) => fileItem('', mediaType, size, sha256, createdAt)),
      ),
      { maxLength },
    )
    .map((items) => items.map((item, i) => ({ ...item, id: `item-${String(i).padStart(3, '0')}` })));
}

const verdictArb = fc.constantFrom('flag' as const, 'fail' as const);
const checkArb: fc.Arbitrary<CheckSpec> = fc.oneof(
  verdictArb.map((verdict) => ({ check: 'empty' as const, verdict })),
  fc
    .record({
      min: fc.integer({ min: 0, max: 5 }),
      span: fc.integer({ min: 0, max: 10 }),
      verdict: verdictArb,
    })
    .map(({ min, span, verdict }) => ({ check: 'size' as const, min, max: min + span, verdict })),
  fc
    .record({ max: fc.integer({ min: 0, max: 6 }), verdict: verdictArb })
    .map(({ max, verdict }) => ({ check: 'length' as const, max, verdict })),
  fc
    .record({
      allowed: fc.subarray(['image/*', 'text/plain', 'application/pdf'], { minLength: 1 }),
      verdict: verdictArb,
    })
    .map(({ allowed, verdict }) => ({ check: 'mediaType' as const, allowed, verdict })),
  verdictArb.map((verdict) => ({ check: 'duplicate' as const, verdict })),
  verdictArb.map((verdict) => ({ check: 'nearDuplicate' as const, verdict })),
  fc
    .record({ terms: fc.subarray(['spam', 'Buy now', 'hello'], { minLength: 1 }), verdict: verdictArb })
    .map(({ terms, verdict }) => ({ check: 'bannedTerms' as const, terms, verdict })),
  verdictArb.map((verdict) => ({ check: 'controlCharacters' as const, verdict })),
  verdictArb.map((verdict) => ({ check: 'urls' as const, verdict })),
);
const pipelineArb: fc.Arbitrary<PipelineSpec> = fc
  .array(checkArb, { minLength: 1, maxLength: 10 })
  .map((checks) => ({ version: 1 as const, checks }));

const byId = (judgements: { itemId: string }[]) =>
  [...judgements].sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));

describe('properties', () => {
  it('every generated pipeline validates to itself', () => {
    fc.assert(
      fc.property(pipelineArb, (p) => {
        expect(validatePipelineSpec(p)).toEqual({ ok: true, pipeline: p });
      }),
    );
  });

  it('judging is deterministic and independent of the order items are passed in', () => {
    fc.assert(
      fc.property(
        pipelineArb,
        itemsArb().chain((items) =>
          fc.tuple(fc.constant(items), fc.shuffledSubarray(items, { minLength: items.length })),
        ),
        (p, [items, shuffled]) => {
          const a = judgeDataset(p, items);
          expect(judgeDataset(p, items)).toEqual(a);
          expect(judgeDataset(p, shuffled)).toEqual(a);
        },
      ),
    );
  });

  it('an item’s verdict is the worst of its reasons, and pass exactly when it has none', () => {
    fc.assert(
      fc.property(pipelineArb, itemsArb(), (p, items) => {
        for (const j of judgeDataset(p, items)) {
          expect(j.verdict).toBe(worstVerdict(j.reasons.map((r) => r.verdict)));
          expect(j.verdict === 'pass').toBe(j.reasons.length === 0);
        }
      }),
    );
  });

  it('checks other than duplicates judge an item alone, whatever else is in the dataset', () => {
    fc.assert(
      fc.property(pipelineArb, itemsArb(), (p, items) => {
        const perItem: PipelineSpec = {
          version: 1,
          checks: p.checks.filter((c) => c.check !== 'duplicate' && c.check !== 'nearDuplicate'),
        };
        const together = byId(judgeDataset(perItem, items));
        const alone = byId(items.map((item) => judgeItem(perItem, item, noEarlier)));
        expect(together).toEqual(alone);
      }),
    );
  });

  it('exactly one item per hash (the first in dataset order) is not a duplicate', () => {
    const p: PipelineSpec = { version: 1, checks: [{ check: 'duplicate', verdict: 'flag' }] };
    fc.assert(
      fc.property(itemsArb(), (items) => {
        const judged = new Map(judgeDataset(p, items).map((j) => [j.itemId, j]));
        const groups = new Map<string, PipelineItem[]>();
        for (const item of items) groups.set(item.sha256, [...(groups.get(item.sha256) ?? []), item]);
        for (const group of groups.values()) {
          const firsts = group.filter((i) => judged.get(i.id)?.verdict === 'pass');
          expect(firsts).toHaveLength(1);
          expect(firsts[0]).toEqual([...group].sort(compareItemOrder)[0]);
        }
      }),
    );
  });

  it('chunked judging with the keys of earlier chunks equals judging the whole dataset', () => {
    fc.assert(
      fc.property(
        pipelineArb,
        itemsArb(40),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 40 }),
        (p, items, sizes) => {
          const ordered = [...items].sort(compareItemOrder);
          const exact = new Set<string>();
          const near = new Set<string>();
          const chunked = [];
          let at = 0;
          for (let i = 0; at < ordered.length; i++) {
            const size = sizes[i % sizes.length] ?? 1;
            const chunk = ordered.slice(at, at + size);
            at += size;
            // A worker gets its chunk in any order from the database; the prior keys are all it knows.
            chunked.push(...judgeChunk(p, [...chunk].reverse(), { exact, near }));
            for (const item of chunk) {
              const keys = duplicateKeys(item);
              exact.add(keys.exact);
              if (keys.near !== null) near.add(keys.near);
            }
          }
          expect(chunked).toEqual(judgeDataset(p, items));
        },
      ),
    );
  });

  it('counts add up to the number of items', () => {
    fc.assert(
      fc.property(pipelineArb, itemsArb(), (p, items) => {
        const counts = countVerdicts(judgeDataset(p, items));
        expect(VERDICTS.reduce((n, v) => n + counts[v], 0)).toBe(items.length);
      }),
    );
  });
});
