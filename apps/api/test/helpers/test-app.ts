import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { RatePolicy, RateTier } from '@crowdee/core';
import { type Orm, openDatabase } from '@crowdee/db';
import { createTestDatabase } from '@crowdee/db/testing';
import type { Redis } from 'ioredis';
import { createApp } from '../../src/app.ts';
import type { AppDeps } from '../../src/app-deps.ts';
import { type Config, testConfig } from '../../src/config.ts';
import { createDeps, stopDeps } from '../../src/deps.ts';
import { listen } from '../../src/http/listen.ts';
import { createInvalidationChannel } from '../../src/invalidation/index.ts';
import { createLogger } from '../../src/logger.ts';
import { TestMailbox } from '../../src/mail/test-mailbox.ts';
import { createRateLimiting } from '../../src/rate-limit/index.ts';
import { connectRedis } from '../../src/redis.ts';
import { startRunWorkers } from '../../src/runs/run-workers.ts';
import type { PasswordHasherOptions } from '../../src/services/passwords.ts';

/** A clock tests can move: session idle/absolute expiry, key expiry and grace periods without sleeping. */
export class TestClock {
  private offsetMs = 0;
  private pinnedMs: number | null = null;
  readonly now = (): Date => new Date(this.pinnedMs ?? Date.now() + this.offsetMs);
  advance(ms: number): void {
    if (this.pinnedMs !== null) this.pinnedMs += ms;
    else this.offsetMs += ms;
  }
  /**
   * Stops time at `at` until the test moves it with `advance`: for rules on a fine grid (30-second TOTP steps),
   * where real time running on between computing a code and checking it could cross a step boundary.
   */
  pin(at: Date): void {
    this.pinnedMs = at.getTime();
  }
}

/** Captures every log line the app writes, so tests can assert what never reaches a log. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
  get text(): string {
    return this.lines.join('');
  }
}

export interface TestApp {
  url: string;
  deps: AppDeps;
  orm: Orm;
  dbUrl: string;
  clock: TestClock;
  logs: LogCapture;
  /** A real SMTP server the app sends through; tests read links from it. */
  mailbox: TestMailbox;
  redis: Redis | undefined;
  close(): Promise<void>;
}

/** Cheap argon2id for tests that sign many users up; the real parameters are tested where timing matters. */
export const FAST_HASHING: PasswordHasherOptions = { memoryCost: 1024, timeCost: 1 };

export interface TestLimits {
  policies?: Partial<Record<RateTier, Partial<RatePolicy>>>;
  namespace?: string;
  redisUrl?: string;
  overrideRefreshMs?: number;
}

export async function startTestApp(
  options: {
    config?: Partial<Config>;
    passwordHashing?: PasswordHasherOptions;
    keyCacheTtlMs?: number;
    /** Rate limits are off in tests unless asked for. */
    limits?: TestLimits;
    /** Share an existing test database (several API instances on one database). */
    database?: { url: string };
    /** Hear other instances' invalidations (PostgreSQL LISTEN/NOTIFY, or Redis pub/sub at `redisUrl`). */
    invalidation?: { channel: 'postgres' } | { channel: 'redis'; redisUrl: string };
    /** The interface to listen on: `::1` for IPv6 clients, `::` for a dual-stack socket. */
    host?: string;
    /** Work verification runs in this process (as WORKERS=in-process does); off unless asked for. */
    workers?: boolean;
  } = {},
): Promise<TestApp> {
  const db = options.database
    ? { url: options.database.url, drop: async () => {} }
    : await createTestDatabase();
  const orm = await openDatabase({ url: db.url, poolMax: 10 });
  const clock = new TestClock();
  const logs = new LogCapture();
  const mailbox = await TestMailbox.start();
  const withoutMail = testConfig({ logLevel: 'info', ...options.config });
  const base: Config = { ...withoutMail, mail: { ...withoutMail.mail, smtpUrl: mailbox.smtpUrl } };
  const config: Config = options.limits
    ? {
        ...base,
        rateLimits: {
          enabled: true,
          // Counters of one test never meet another's, even in a shared Redis.
          namespace: options.limits.namespace ?? `test-${randomUUID().slice(0, 8)}`,
          policies: Object.fromEntries(
            Object.entries(base.rateLimits.policies).map(([tier, policy]) => [
              tier,
              { ...policy, ...options.limits?.policies?.[tier as RateTier] },
            ]),
          ) as Record<RateTier, RatePolicy>,
        },
      }
    : base;
  const logger = createLogger(config, logs);
  const redisUrl =
    options.invalidation?.channel === 'redis' ? options.invalidation.redisUrl : options.limits?.redisUrl;
  const redis = redisUrl ? connectRedis(redisUrl, logger) : undefined;
  if (redis)
    await new Promise<void>((resolve) =>
      redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
    );
  const limits = await createRateLimiting({
    config,
    logger,
    orm,
    clock: clock.now,
    ...(redis ? { redis } : {}),
    overrideRefreshMs: options.limits?.overrideRefreshMs ?? 200,
  });
  let listening = '';
  const deps = createDeps(config, logger, orm, {
    appUrl: () => listening,
    clock: clock.now,
    limits,
    passwordHashing: options.passwordHashing ?? FAST_HASHING,
    ...(options.keyCacheTtlMs !== undefined ? { keyCacheTtlMs: options.keyCacheTtlMs } : {}),
    ...(options.invalidation
      ? {
          invalidationChannel: createInvalidationChannel(
            { ...config, invalidationChannel: options.invalidation.channel, redisUrl },
            db.url,
            redis,
            logger,
          ),
        }
      : {}),
  });
  await deps.invalidation.start();
  if (options.workers) await startRunWorkers(deps);
  const http = await listen(createApp(deps), 0, options.host ?? '127.0.0.1');
  listening = http.url;
  return {
    url: http.url,
    deps,
    orm,
    dbUrl: db.url,
    clock,
    logs,
    mailbox,
    redis,
    async close() {
      await http.closeNow();
      await stopDeps(deps, redis);
      await mailbox.close();
      await orm.close();
      await db.drop();
    },
  };
}
