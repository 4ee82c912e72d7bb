import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUNTER_SWEEP_MS,
  type CounterCharge,
  type CounterState,
  FixedWindowCounters,
} from './rate-limit-counter.ts';

/** Each key has one window length (the store's keys name their policy's window); quotas may change (overrides). */
const KEYS = ['a', 'b', 'c'] as const;
const WINDOW_MS: Record<string, number> = { a: 1_000, b: 5_000, c: 60_000 };

interface Step {
  advanceMs: number;
  charges: CounterCharge[];
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  advanceMs: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3 * COUNTER_SWEEP_MS })),
  charges: fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }).chain((keys) =>
    fc.tuple(
      ...keys.map((key) =>
        fc.record({
          key: fc.constant(key),
          quota: fc.integer({ min: 1, max: 8 }),
          windowMs: fc.constant(WINDOW_MS[key] as number),
          points: fc.integer({ min: 1, max: 4 }),
        }),
      ),
    ),
  ),
});

const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 60 });

type Outcome = { admitted: boolean; counters: CounterState[] };

function run(steps: readonly Step[]): Outcome[] {
  const counters = new FixedWindowCounters();
  let now = 1_000_000;
  return steps.map((step) => {
    now += step.advanceMs;
    const { admitted, counters: states } = counters.consumeAll(step.charges, now);
    return { admitted, counters: states.map((s) => ({ ...s })) };
  });
}

/**
 * The rule restated from the admitted units alone: a key's window begins with the first unit admitted after the
 * previous window ended; a request is admitted when, for every key, the units admitted in the key's running window
 * plus its points fit the quota.
 */
function reference(steps: readonly Step[]): Outcome[] {
  const admittedUnits = new Map<string, { at: number; points: number }[]>();
  const windowOf = (key: string, now: number, windowMs: number) => {
    let start: number | null = null;
    let count = 0;
    for (const unit of admittedUnits.get(key) ?? []) {
      if (start === null || unit.at >= start + windowMs) {
        start = unit.at;
        count = 0;
      }
      count += unit.points;
    }
    return start !== null && now < start + windowMs
      ? { count, ttlMs: start + windowMs - now }
      : { count: 0, ttlMs: windowMs };
  };
  let now = 1_000_000;
  return steps.map((step) => {
    now += step.advanceMs;
    const states = step.charges.map((c) => windowOf(c.key, now, c.windowMs));
    const admitted = step.charges.every((c, i) => (states[i]?.count ?? 0) + c.points <= c.quota);
    if (admitted) {
      step.charges.forEach((c, i) => {
        const list = admittedUnits.get(c.key) ?? [];
        list.push({ at: now, points: c.points });
        admittedUnits.set(c.key, list);
        (states[i] as CounterState).count += c.points;
      });
    }
    return { admitted, counters: states };
  });
}

describe('FixedWindowCounters', () => {
  it('admits up to the quota in a window, refuses beyond, and starts a new window when the old one ends', () => {
    const counters = new FixedWindowCounters();
    const charge = { key: 'k', quota: 3, windowMs: 1_000, points: 1 };
    expect(counters.consumeAll([charge], 0)).toEqual({
      admitted: true,
      counters: [{ count: 1, ttlMs: 1_000 }],
    });
    expect(counters.consumeAll([charge], 100).counters).toEqual([{ count: 2, ttlMs: 900 }]);
    expect(counters.consumeAll([charge], 200).counters).toEqual([{ count: 3, ttlMs: 800 }]);
    expect(counters.consumeAll([charge], 999)).toEqual({
      admitted: false,
      counters: [{ count: 3, ttlMs: 1 }],
    });
    expect(counters.consumeAll([charge], 1_000)).toEqual({
      admitted: true,
      counters: [{ count: 1, ttlMs: 1_000 }],
    });
  });

  it('takes all charges or none: a request refused by one counter spends nothing from the other', () => {
    const counters = new FixedWindowCounters();
    const wide = { key: 'wide', quota: 10, windowMs: 60_000, points: 1 };
    const narrow = { key: 'narrow', quota: 1, windowMs: 60_000, points: 1 };
    expect(counters.consumeAll([wide, narrow], 0).admitted).toBe(true);
    expect(counters.consumeAll([wide, narrow], 1)).toEqual({
      admitted: false,
      counters: [
        { count: 1, ttlMs: 59_999 },
        { count: 1, ttlMs: 59_999 },
      ],
    });
    expect(counters.consumeAll([wide], 2).counters).toEqual([{ count: 2, ttlMs: 59_998 }]);
  });

  it('forgets ended windows on a sweep, and never one that is still running', () => {
    const counters = new FixedWindowCounters();
    counters.consumeAll([{ key: 'short', quota: 5, windowMs: 1_000, points: 1 }], 0);
    counters.consumeAll([{ key: 'long', quota: 5, windowMs: 60_000, points: 1 }], 0);
    counters.consumeAll([{ key: 'other', quota: 5, windowMs: 1_000, points: 1 }], COUNTER_SWEEP_MS);
    expect(counters.size).toBe(2);
    expect(
      counters.consumeAll([{ key: 'long', quota: 5, windowMs: 60_000, points: 1 }], COUNTER_SWEEP_MS)
        .counters,
    ).toEqual([{ count: 2, ttlMs: 60_000 - COUNTER_SWEEP_MS }]);
  });

  it('decides exactly as the rule restated from admitted units (any sequence, sweeps included)', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        expect(run(steps)).toEqual(reference(steps));
      }),
    );
  });

  it('never admits more than the quota into a window, and reports a time left within the window', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        run(steps).forEach((outcome, i) => {
          (steps[i]?.charges ?? []).forEach((charge, j) => {
            const state = outcome.counters[j] as CounterState;
            if (outcome.admitted) expect(state.count).toBeLessThanOrEqual(charge.quota);
            expect(state.ttlMs).toBeGreaterThan(0);
            expect(state.ttlMs).toBeLessThanOrEqual(charge.windowMs);
          });
        });
      }),
    );
  });

  it('leaves no trace of a refused request: what follows is decided as if it had never been made', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const outcomes = run(steps);
        const refused = outcomes.findIndex((o) => !o.admitted);
        if (refused === -1) return;
        // Remove the refused request but keep its advance of time (the request after it moves by as much).
        const shifted = steps
          .filter((_, i) => i !== refused)
          .map((step, i) =>
            i === refused ? { ...step, advanceMs: step.advanceMs + (steps[refused]?.advanceMs ?? 0) } : step,
          );
        expect(run(shifted)).toEqual([...outcomes.slice(0, refused), ...outcomes.slice(refused + 1)]);
      }),
    );
  });
});
