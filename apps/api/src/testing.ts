/**
 * A whole running API (real database, real middleware, optionally the built web app) for end-to-end tests in
 * other packages: the settings app's browser tests and the client library's tests.
 */
import { openDatabase } from '@crowdee/db';
import type { Redis } from 'ioredis';
import { createApp } from './app.ts';
import type { AppDeps } from './app-deps.ts';
import { type Config, testConfig } from './config.ts';
import { createDeps, stopDeps } from './deps.ts';
import { listen } from './http/listen.ts';
import { createLogger } from './logger.ts';
import { TestMailbox } from './mail/test-mailbox.ts';
import { createRateLimiting } from './rate-limit/index.ts';
import { connectRedis } from './redis.ts';
import { startRunWorkers } from './runs/run-workers.ts';

export interface E2EServer {
  url: string;
  deps: AppDeps;
  /** The real SMTP server the API mails through: verification, invitation and reset links are read from here. */
  mailbox: TestMailbox;
  close(): Promise<void>;
}

export interface E2EOptions {
  databaseUrl: string;
  /** Overrides of the test configuration (rate limits are off unless `config.rateLimits` turns them on). */
  config?: Partial<Config>;
  redisUrl?: string;
  /** Cheap argon2id parameters for suites that sign many users up. */
  fastPasswordHashing?: boolean;
  port?: number;
  /** A clock the test can move (expiry of keys, sessions and session tokens without sleeping). */
  clock?: () => Date;
  /** Work verification runs in this process, as `WORKERS=in-process` does (off unless asked for). */
  workers?: boolean;
}

export async function startE2EServer(options: E2EOptions): Promise<E2EServer> {
  const mailbox = await TestMailbox.start();
  const base = testConfig({ logLevel: 'warn', ...options.config });
  const config = { ...base, mail: { ...base.mail, smtpUrl: mailbox.smtpUrl } };
  const logger = createLogger(config);
  const orm = await openDatabase({ url: options.databaseUrl, poolMax: 10 });
  let redis: Redis | undefined;
  if (options.redisUrl) redis = connectRedis(options.redisUrl, logger);
  const limits = await createRateLimiting({
    config,
    logger,
    orm,
    ...(redis ? { redis } : {}),
    overrideRefreshMs: 500,
  });
  let listening = '';
  const deps = createDeps(config, logger, orm, {
    limits,
    ...(options.clock ? { clock: options.clock } : {}),
    appUrl: () => listening,
    ...(options.fastPasswordHashing ? { passwordHashing: { memoryCost: 1024, timeCost: 1 } } : {}),
  });
  const http = await listen(createApp(deps), options.port ?? 0, '127.0.0.1');
  listening = http.url;
  if (options.workers) await startRunWorkers(deps);
  return {
    url: http.url,
    deps,
    mailbox,
    async close() {
      await http.closeNow();
      await stopDeps(deps, redis);
      await mailbox.close();
      await orm.close();
    },
  };
}

export type { AppDeps } from './app-deps.ts';
export { type ReceivedMail, TestMailbox, tokenOf } from './mail/test-mailbox.ts';
/** The stale-key sweep, run by a test at the moment its clock says (servers run it on a timer). */
export { sweepStaleKeys } from './services/stale-keys.service.ts';
export { testConfig };
