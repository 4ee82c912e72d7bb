import { randomUUID } from 'node:crypto';
import type { Orm } from '@crowdee/db';
import type { Redis } from 'ioredis';
import type { AppDeps } from './app-deps.ts';
import type { Config } from './config.ts';
import type { InvalidationChannel } from './invalidation/channel.ts';
import { InvalidationBus } from './invalidation/invalidation-bus.ts';
import type { Logger } from './logger.ts';
import { Mailer } from './mail/mailer.ts';
import { type RateLimiting, stopRateLimiting } from './rate-limit/index.ts';
import { RunQueue } from './runs/run-queue.ts';
import { KeyCache } from './services/key-cache.ts';
import { KeyVerifier } from './services/key-verifier.ts';
import { PasswordHasher, type PasswordHasherOptions } from './services/passwords.ts';
import { SessionTokenVerifier } from './services/session-token-verifier.ts';
import { UsageRecorder } from './usage/usage-recorder.ts';

/** The key cache's TTL: the backstop if an invalidation message is ever lost. */
export const KEY_CACHE_TTL_MS = 30_000;
/** The TTL while the invalidation channel is down: how late a change on another node can be seen here. */
export const KEY_CACHE_DEGRADED_TTL_MS = 1_000;

export interface DepsOptions {
  clock?: () => Date;
  limits?: RateLimiting | null;
  passwordHashing?: PasswordHasherOptions;
  keyCacheTtlMs?: number;
  /** How this node hears about other nodes' changes; absent = a single process (tests, tools). */
  invalidationChannel?: InvalidationChannel | undefined;
  heartbeatMs?: number;
  /** Where the settings app is reached, when only known after listening (port 0). */
  appUrl?: () => string;
  /** A run queue shared with other parts of the process (default: one on this database, started on first use). */
  runQueue?: RunQueue;
  /** The key sealing TOTP seeds, when not in the configuration (the server's generated development key). */
  secretsKey?: Buffer;
}

export function createDeps(config: Config, logger: Logger, orm: Orm, options: DepsOptions = {}): AppDeps {
  const clock = options.clock ?? (() => new Date());
  const ttlMs = options.keyCacheTtlMs ?? KEY_CACHE_TTL_MS;
  const keyCache = new KeyCache({
    ttlMs,
    degradedTtlMs: Math.min(ttlMs, KEY_CACHE_DEGRADED_TTL_MS),
    maxEntries: 10_000,
  });
  const limits = options.limits ?? null;
  const secretsKey = options.secretsKey ?? config.secretsEncryptionKey;
  if (!secretsKey) throw new Error('no key to encrypt TOTP seeds: set SECRETS_ENCRYPTION_KEY');
  const invalidation = new InvalidationBus({
    node: config.nodeId ?? randomUUID().slice(0, 8),
    cache: keyCache,
    logger,
    channel: options.invalidationChannel,
    refreshRateLimits: limits ? () => limits.overrides.refresh() : undefined,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
  });
  return {
    config,
    logger,
    orm,
    clock,
    keyCache,
    invalidation,
    keyVerifier: new KeyVerifier(orm, keyCache, clock, logger),
    sessionTokenVerifier: new SessionTokenVerifier(orm, keyCache, clock, logger, config.sessions),
    passwords: new PasswordHasher(options.passwordHashing),
    limits,
    secretsKey,
    mailer: new Mailer({
      smtpUrl: config.mail.smtpUrl,
      from: config.mail.from,
      mailDir: config.mail.dir,
      logger,
    }),
    usage: new UsageRecorder({
      orm,
      logger,
      clock,
      enabled: config.usage.enabled,
      flushMs: config.usage.flushMs,
    }),
    appUrl: () => config.publicUrl ?? options.appUrl?.() ?? `http://localhost:${config.port}`,
    runQueue:
      options.runQueue ??
      new RunQueue({
        databaseUrl: String(orm.config.get('clientUrl')),
        logger,
        heartbeatSeconds: config.runs.heartbeatSeconds,
        superviseIntervalSeconds: config.runs.superviseIntervalSeconds,
      }),
  };
}

/**
 * Stops what createDeps started, in the order a clean shutdown needs: requests are answered by now, so their counts
 * go out in the last usage flush; then invalidation, the run queue, rate limiting (and `redis`, when the caller
 * owns it) and mail still queued. The ORM is the caller's to close.
 */
export async function stopDeps(deps: AppDeps, redis?: Redis): Promise<void> {
  await deps.usage.stop();
  await deps.invalidation.stop();
  await deps.runQueue.stop();
  stopRateLimiting(deps.limits, redis);
  await deps.mailer.drain();
  deps.mailer.close();
}
