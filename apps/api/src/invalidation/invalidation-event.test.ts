import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeInvalidation,
  encodePing,
  INVALIDATION_CAUSES,
  type InvalidationTarget,
  MAX_TARGETS,
} from './invalidation-event.ts';

const target: fc.Arbitrary<InvalidationTarget> = fc.oneof(
  fc.uuid().map((keyId) => ({ kind: 'key' as const, keyId })),
  fc.uuid().map((userId) => ({ kind: 'user' as const, userId })),
  fc.constant({ kind: 'rate-limits' as const }),
  fc.constant({ kind: 'everything' as const }),
);

describe('invalidation messages', () => {
  it('round-trip, and always fit a PostgreSQL NOTIFY payload (< 8000 bytes)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...INVALIDATION_CAUSES),
        fc.array(target, { maxLength: 400 }),
        (cause, targets) => {
          const payload = encodeInvalidation('node-1', { cause, targets });
          expect(Buffer.byteLength(payload)).toBeLessThan(8000);
          const decoded = decodeMessage(payload);
          expect(decoded).toMatchObject({ type: 'invalidate', node: 'node-1', cause });
          if (decoded?.type !== 'invalidate') throw new Error('not an invalidation');
          // Too many targets widen to "everything": never narrower than asked.
          expect(decoded.targets).toEqual(targets.length > MAX_TARGETS ? [{ kind: 'everything' }] : targets);
        },
      ),
    );
  });

  it('pings round-trip', () => {
    expect(decodeMessage(encodePing('n', 7))).toEqual({ v: 1, type: 'ping', node: 'n', seq: 7 });
  });

  it('drops anything else: junk, unknown causes or target kinds, other versions', () => {
    for (const payload of [
      'not json',
      '{}',
      JSON.stringify({ v: 2, type: 'ping', node: 'n', seq: 1 }),
      JSON.stringify({ v: 1, type: 'invalidate', node: 'n', cause: 'made.up', targets: [] }),
      JSON.stringify({
        v: 1,
        type: 'invalidate',
        node: 'n',
        cause: 'key.revoked',
        targets: [{ kind: 'org' }],
      }),
      JSON.stringify({ v: 1, type: 'invalidate', node: '', cause: 'key.revoked', targets: [] }),
    ]) {
      expect(decodeMessage(payload)).toBeNull();
    }
  });
});
