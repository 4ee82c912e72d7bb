import type { Orm } from '@crowdee/db';
import type { Config } from './config.ts';
import type { InvalidationBus } from './invalidation/invalidation-bus.ts';
import type { Logger } from './logger.ts';
import type { Mailer } from './mail/mailer.ts';
import type { RateLimiting } from './rate-limit/rate-limiting.ts';
import type { RunQueue } from './runs/run-queue.ts';
import type { KeyCache } from './services/key-cache.ts';
import type { KeyVerifier } from './services/key-verifier.ts';
import type { PasswordHasher } from './services/passwords.ts';
import type { SessionTokenVerifier } from './services/session-token-verifier.ts';
import type { UsageRecorder } from './usage/usage-recorder.ts';

/** Long-lived collaborators, built once per process (or per test). */
export interface AppDeps {
  config: Config;
  logger: Logger;
  orm: Orm;
  /** Injected so tests can move time (session idle/absolute expiry, key expiry, grace periods). */
  clock: () => Date;
  keyCache: KeyCache;
  /** Applies verification-affecting changes here and on every other API node (`publishInvalidation`). */
  invalidation: InvalidationBus;
  keyVerifier: KeyVerifier;
  sessionTokenVerifier: SessionTokenVerifier;
  passwords: PasswordHasher;
  /** Null when rate limiting is switched off (RATE_LIMITS=off). */
  limits: RateLimiting | null;
  mailer: Mailer;
  /** Per-key and per-organization request counts, tallied in memory and flushed coalesced. */
  usage: UsageRecorder;
  /** The settings app's base URL, for links in mails. Never taken from a request's Host header. */
  appUrl: () => string;
  /** The AES-256-GCM key that seals TOTP seeds at rest (core `sealSecret`/`openSecret`). Never logged. */
  secretsKey: Buffer;
  /** Where started runs are queued (pg-boss on the same database); workers may live in this process or others. */
  runQueue: RunQueue;
}
