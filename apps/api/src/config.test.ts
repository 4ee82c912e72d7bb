import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('STALE_KEY_SWEEP_INTERVAL', () => {
  it('defaults to an hour, takes durations and `off`, and refuses anything else', () => {
    expect(loadConfig({}).staleKeySweepIntervalMs).toBe(3_600_000);
    expect(loadConfig({ STALE_KEY_SWEEP_INTERVAL: '15m' }).staleKeySweepIntervalMs).toBe(900_000);
    expect(loadConfig({ STALE_KEY_SWEEP_INTERVAL: 'off' }).staleKeySweepIntervalMs).toBeNull();
    expect(() => loadConfig({ STALE_KEY_SWEEP_INTERVAL: 'weekly' })).toThrow(/STALE_KEY_SWEEP_INTERVAL/);
    expect(() => loadConfig({ STALE_KEY_SWEEP_INTERVAL: '0' })).toThrow(/STALE_KEY_SWEEP_INTERVAL/);
  });
});
