/** The two in-memory building blocks, driven by a hand-moved clock. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdmissionQueue } from '../../src/throttle/admission-queue.ts';
import { RateLimitBudget, tighterReset } from '../../src/throttle/rate-limit-budget.ts';

describe('RateLimitBudget', () => {
  it('lets everything through until a response tells about the window', () => {
    const budget = new RateLimitBudget();
    expect(budget.take(0)).toBe(0);
  });

  it('hands out r minus what is still in flight, then asks to wait for the reset', () => {
    const budget = new RateLimitBudget();
    budget.observe(5, 2000, 2, 100);

    expect([budget.take(110), budget.take(120), budget.take(130)]).toEqual([0, 0, 0]);
    expect(budget.take(140)).toBe(2100 - 140);
  });

  it('never raises the estimate within a window (late responses carry stale r)', () => {
    const budget = new RateLimitBudget();
    budget.observe(1, 2000, 0, 0);
    budget.observe(9, 1800, 0, 200); // same window: reset within t's one-second resolution

    expect(budget.take(210)).toBe(0);
    expect(budget.take(220)).toBeGreaterThan(0);
  });

  it('starts over in a new window', () => {
    const budget = new RateLimitBudget();
    budget.observe(0, 1000, 0, 0);
    expect(budget.take(500)).toBe(500);

    budget.observe(10, 2000, 0, 600); // resets 1.6 s after the previous window: a later one
    expect(budget.take(700)).toBe(0);
  });

  it('forgets the estimate once the window has reset', () => {
    const budget = new RateLimitBudget();
    budget.observe(0, 1000, 0, 0);

    expect(budget.take(1000)).toBe(0);
    expect(budget.take(1001)).toBe(0);
  });
});

describe('AdmissionQueue', () => {
  let clock = 0;
  const now = (): number => clock;
  const tooLong = (waitMs: number): Error => new Error(`too long: ${waitMs}`);
  const signal = new AbortController().signal;
  const queue = (capacity = 2, maxWaitMs = 10_000): AdmissionQueue =>
    new AdmissionQueue({ capacity, maxWaitMs, now });
  const settled = async <T>(promise: Promise<T>): Promise<'resolved' | 'rejected' | 'pending'> => {
    const marker = Symbol('pending');
    const result = await Promise.race([
      promise.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      Promise.resolve().then(() => marker),
    ]);
    return result === marker ? 'pending' : (result as 'resolved' | 'rejected');
  };

  beforeEach(() => {
    clock = 0;
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits up to capacity and the next one on release, retries first', async () => {
    const q = queue(2);
    await q.acquire({ signal, priority: false, tooLong });
    await q.acquire({ signal, priority: false, tooLong });
    const order: string[] = [];
    const fresh = q.acquire({ signal, priority: false, tooLong }).then(() => order.push('fresh'));
    const retry = q.acquire({ signal, priority: true, tooLong }).then(() => order.push('retry'));
    expect(q.waiting).toBe(2);

    q.release();
    await retry;
    expect(order).toEqual(['retry']);
    q.release();
    await fresh;
    expect(order).toEqual(['retry', 'fresh']);
  });

  it('holds everyone during a pause and lets them out when it ends, not before', async () => {
    const q = queue(5);
    expect(q.pause(1000)).toBe(true);
    expect(q.pause(500)).toBe(false); // a shorter pause never shortens the current one
    const waiting = q.acquire({ signal, priority: false, tooLong });

    clock = 999;
    vi.advanceTimersByTime(999);
    expect(await settled(waiting)).toBe('pending');
    clock = 1000;
    vi.advanceTimersByTime(1);
    expect(await settled(waiting)).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once a wait longer than maxWaitMs, including waiters when the pause grows', async () => {
    const q = queue(1, 5_000);
    q.pause(1_000);
    const waiter = q.acquire({ signal, priority: false, tooLong });
    q.pause(60_000);

    await expect(waiter).rejects.toThrow('too long: 60000');
    await expect(q.acquire({ signal, priority: false, tooLong })).rejects.toThrow('too long: 60000');
  });

  it('drops an aborted waiter and rejects everyone on close, clearing its timer', async () => {
    const q = queue(1);
    q.pause(1_000);
    const controller = new AbortController();
    const aborted = q.acquire({ signal: controller.signal, priority: false, tooLong });
    const closed = q.acquire({ signal, priority: false, tooLong });

    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(q.waiting).toBe(1);
    q.close(new Error('closed'));
    await expect(closed).rejects.toThrow('closed');
    await expect(q.acquire({ signal, priority: false, tooLong })).rejects.toThrow('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('tighterReset (whole-second t, many responses)', () => {
  it('converges on the true reset from above and is never early', () => {
    const trueReset = 10_437; // ms, unknown to the client
    let estimate: number | undefined;
    // Responses every 7 ms from t=8000 to t=10000, each carrying t = ceil((trueReset - now) / 1000).
    for (let now = 8_000; now <= 10_000; now += 7) {
      const t = Math.ceil((trueReset - now) / 1000);
      estimate = tighterReset(estimate, now + t * 1000);
      expect(estimate).toBeGreaterThanOrEqual(trueReset);
    }
    expect((estimate ?? 0) - trueReset).toBeLessThan(10);
  });

  it('starts over for the next window', () => {
    expect(tighterReset(10_500, 14_400)).toBe(14_400);
    expect(tighterReset(10_500, 10_900)).toBe(10_500);
    expect(tighterReset(10_500, 10_100)).toBe(10_100);
  });
});
