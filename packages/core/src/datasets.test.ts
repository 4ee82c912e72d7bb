import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BatchEntry,
  batchResults,
  decodePageCursor,
  EXTERNAL_ID_MAX_LENGTH,
  encodePageCursor,
  entriesToInsert,
  externalIdProblem,
  idempotencyDecision,
  isValidIdempotencyKey,
  type StoredItem,
} from './datasets.ts';

describe('externalId', () => {
  it('accepts 1–200 characters of printable Unicode, counted in code points', () => {
    expect(externalIdProblem('a')).toBeNull();
    expect(externalIdProblem('photos/2026/cat.jpg')).toBeNull();
    expect(externalIdProblem('😀'.repeat(EXTERNAL_ID_MAX_LENGTH))).toBeNull();
    expect(externalIdProblem('x'.repeat(EXTERNAL_ID_MAX_LENGTH + 1))).toBe('too-long');
    expect(externalIdProblem('')).toBe('empty');
  });

  it('refuses NUL, lone surrogates and control characters', () => {
    expect(externalIdProblem('a\u0000b')).toBe('invalid-unicode');
    expect(externalIdProblem('a\ud800')).toBe('invalid-unicode');
    expect(externalIdProblem('a\nb')).toBe('control-character');
    expect(externalIdProblem('a\u007fb')).toBe('control-character');
    expect(externalIdProblem('a\u0085b')).toBe('control-character');
  });
});

const sha = fc.constantFrom('a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64));
const entry: fc.Arbitrary<BatchEntry> = fc.record({
  externalId: fc.constantFrom('x', 'y', 'z', 'w'),
  sha256: sha,
});

/** What the database holds after a batch: for each id, either what was there before or the batch's first entry. */
function simulate(entries: BatchEntry[], before: Map<string, string>) {
  const stored = new Map<string, StoredItem>();
  for (const e of entriesToInsert(entries)) {
    const prior = before.get(e.externalId);
    stored.set(
      e.externalId,
      prior === undefined
        ? { id: `new-${e.externalId}`, sha256: e.sha256, insertedNow: true }
        : { id: `old-${e.externalId}`, sha256: prior, insertedNow: false },
    );
  }
  return stored;
}

describe('batch results', () => {
  it('answers created, exists (same bytes) and rejected CONFLICT (other bytes), in request order', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const entries = [
      { externalId: 'new', sha256: a },
      { externalId: 'same', sha256: a },
      { externalId: 'other', sha256: a },
      { externalId: 'new', sha256: a },
      { externalId: 'new', sha256: b },
    ];
    const out = batchResults(
      entries,
      simulate(
        entries,
        new Map([
          ['same', a],
          ['other', b],
        ]),
      ),
    );
    expect(out.results.map((r) => r.status)).toEqual(['created', 'exists', 'rejected', 'exists', 'rejected']);
    expect(out.results[2]).toMatchObject({ error: { code: 'CONFLICT' } });
    expect(out).toMatchObject({ created: 1, existing: 2, rejected: 2 });
  });

  it('property: one result per entry, counts add up, each externalId created at most once', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), fc.array(entry, { maxLength: 4 }), (entries, prior) => {
        const before = new Map(prior.map((p) => [p.externalId, p.sha256]));
        const out = batchResults(entries, simulate(entries, before));
        expect(out.results).toHaveLength(entries.length);
        expect(out.created + out.existing + out.rejected).toBe(entries.length);
        const created = out.results.filter((r) => r.status === 'created').map((r) => r.externalId);
        expect(new Set(created).size).toBe(created.length);
        for (const id of created) expect(before.has(id)).toBe(false);
      }),
    );
  });

  it('property: a retried batch creates nothing and rejects exactly what the first one rejected', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), (entries) => {
        const first = simulate(entries, new Map());
        const held = new Map([...first].map(([id, s]) => [id, s.sha256]));
        const again = batchResults(entries, simulate(entries, held));
        expect(again.created).toBe(0);
        expect(again.rejected).toBe(batchResults(entries, first).rejected);
      }),
    );
  });

  it('inserts the first entry per externalId, sorted (one lock order for racing batches)', () => {
    const out = entriesToInsert([
      { externalId: 'b', n: 1 },
      { externalId: 'a', n: 2 },
      { externalId: 'b', n: 3 },
    ]);
    expect(out).toEqual([
      { externalId: 'a', n: 2 },
      { externalId: 'b', n: 1 },
    ]);
  });
});

describe('page cursors', () => {
  it('property: decoding an encoded position gives it back', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date('9999-12-31'), noInvalidDate: true }),
        fc.uuid(),
        (at, id) => {
          expect(decodePageCursor(encodePageCursor({ createdAt: at, id }))).toEqual({ createdAt: at, id });
        },
      ),
    );
  });

  it('refuses anything that is not exactly one of ours', () => {
    const good = encodePageCursor({
      createdAt: new Date('2026-12-05T10:00:00.000Z'),
      id: crypto.randomUUID(),
    });
    expect(decodePageCursor(good)).not.toBeNull();
    for (const bad of [
      '',
      'x',
      `${good}=`,
      `${good}!`,
      good.slice(0, -2),
      btoa("1' or 1=1|x"),
      'A'.repeat(200),
    ]) {
      expect(decodePageCursor(bad)).toBeNull();
    }
    expect(
      decodePageCursor(btoa('2026-13-45T10:00:00.000Z|00000000-0000-0000-0000-000000000000')),
    ).toBeNull();
  });

  it('property: arbitrary strings never throw', () => {
    fc.assert(fc.property(fc.string(), (s) => decodePageCursor(s) === null || typeof s === 'string'));
  });
});

describe('idempotency', () => {
  it('keys are 1–255 printable ASCII characters', () => {
    expect(isValidIdempotencyKey('a')).toBe(true);
    expect(isValidIdempotencyKey('k'.repeat(255))).toBe(true);
    expect(isValidIdempotencyKey('k'.repeat(256))).toBe(false);
    expect(isValidIdempotencyKey('')).toBe(false);
    expect(isValidIdempotencyKey('é')).toBe(false);
    expect(isValidIdempotencyKey('a\tb')).toBe(false);
  });

  const now = new Date('2026-12-05T12:00:00Z');
  const later = new Date('2026-12-06T12:00:00Z');
  const request = { method: 'POST', path: '/a', fingerprint: 'f1' };
  const done = { ...request, status: 200, lockedUntil: now, expiresAt: later };

  it('replays the same request, refuses another under the same key, and a twin still in flight', () => {
    expect(idempotencyDecision(done, request, now)).toBe('replay');
    expect(idempotencyDecision(done, { ...request, fingerprint: 'f2' }, now)).toBe('reused');
    expect(idempotencyDecision(done, { ...request, path: '/b' }, now)).toBe('reused');
    const running = { ...done, status: null, lockedUntil: new Date(now.getTime() + 1000) };
    expect(idempotencyDecision(running, request, now)).toBe('in-use');
    expect(idempotencyDecision(running, { ...request, fingerprint: 'f2' }, now)).toBe('reused');
  });

  it('forgets expired records and in-flight ones whose lease ran out', () => {
    expect(idempotencyDecision({ ...done, expiresAt: now }, { ...request, fingerprint: 'other' }, now)).toBe(
      'proceed',
    );
    expect(idempotencyDecision({ ...done, status: null, lockedUntil: now }, request, now)).toBe('proceed');
  });
});
