import type { Orm } from '@crowdee/db';
import type { Config } from './config.ts';
import type { AppDeps } from './context.ts';
import type { Logger } from './logger.ts';
import type { RateLimiting } from './rate-limit/index.ts';
import { KeyCache } from './services/key-cache.ts';
import { KeyVerifier } from './services/key-verifier.ts';
import { PasswordHasher, type PasswordHasherOptions } from './services/passwords.ts';
import { SessionTokenVerifier } from './services/session-tokens.service.ts';

export interface DepsOptions {
  clock?: () => Date;
  limits?: RateLimiting | null;
  passwordHashing?: PasswordHasherOptions;
  keyCacheTtlMs?: number;
}

export function createDeps(config: Config, logger: Logger, orm: Orm, options: DepsOptions = {}): AppDeps {
  const clock = options.clock ?? (() => new Date());
  const keyCache = new KeyCache({ ttlMs: options.keyCacheTtlMs ?? 30_000, maxEntries: 10_000 });
  return {
    config,
    logger,
    orm,
    clock,
    keyCache,
    keyVerifier: new KeyVerifier(orm, keyCache, clock, logger),
    sessionTokenVerifier: new SessionTokenVerifier(orm, keyCache, clock, logger, config.sessions),
    passwords: new PasswordHasher(options.passwordHashing),
    limits: options.limits ?? null,
  };
}
