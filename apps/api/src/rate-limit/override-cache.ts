import type { RateOverride } from '@crowdee/core';
import type { Orm } from '@crowdee/db';
import type { Logger } from '../logger.ts';
import { sqlDate } from '../services/sql.ts';

interface OverrideRow {
  organization_id: string | null;
  api_key_id: string | null;
  quota: number;
  window_seconds: number;
  expires_at: Date | string | null;
}

/**
 * Operator-granted limits, read from the database every few seconds: a new override takes effect within one
 * refresh interval, without a restart and without a query per request.
 */
export class OverrideCache {
  private overrides: RateOverride[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  get all(): readonly RateOverride[] {
    return this.overrides;
  }

  async refresh(): Promise<void> {
    const rows = await this.orm.em
      .getConnection()
      .execute<OverrideRow[]>(
        'select organization_id, api_key_id, quota, window_seconds, expires_at from rate_limit_overrides where expires_at is null or expires_at > now()',
      );
    this.overrides = rows.map((r) => ({
      target: r.api_key_id
        ? { kind: 'key' as const, keyId: r.api_key_id }
        : { kind: 'org' as const, orgId: r.organization_id ?? '' },
      quota: r.quota,
      windowSeconds: r.window_seconds,
      expiresAt: sqlDate(r.expires_at),
    }));
  }

  async start(): Promise<void> {
    await this.refresh().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'rate limits: could not load overrides'),
    );
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'rate limits: could not refresh overrides'),
      );
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
