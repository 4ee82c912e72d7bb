import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEY_EXPIRES_SOON_MS, keyExpiresSoon } from './expiring-soon.ts';

const now = new Date('2026-12-05T12:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms);

describe('keyExpiresSoon', () => {
  it('flags the last seven days of a key’s life, and nothing else', () => {
    expect(keyExpiresSoon(null, now)).toBe(false);
    expect(keyExpiresSoon(at(KEY_EXPIRES_SOON_MS), now)).toBe(true);
    expect(keyExpiresSoon(at(KEY_EXPIRES_SOON_MS + 1), now)).toBe(false);
    expect(keyExpiresSoon(at(1), now)).toBe(true);
    expect(keyExpiresSoon(at(0), now)).toBe(false);
    expect(keyExpiresSoon(at(-1), now)).toBe(false);
  });

  it('property: true exactly when 0 < time left ≤ 7 days', () => {
    fc.assert(
      fc.property(fc.integer({ min: -30 * 86_400_000, max: 30 * 86_400_000 }), (ms) => {
        expect(keyExpiresSoon(at(ms), now)).toBe(ms > 0 && ms <= 7 * 86_400_000);
      }),
    );
  });
});
