import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_MAX_ACTIVE_KEYS_PER_USER,
  DEFAULT_RATE_POLICIES,
  DEFAULT_SESSION_TIMEOUTS,
  ITEM_FILE_MAX_BYTES_DEFAULT,
  parseRateSpec,
  parseSecretKey,
  type RatePolicy,
  type RateTier,
  type SessionTimeouts,
} from '@crowdee/core';
import { z } from 'zod';

/** The only module that reads `process.env`. Everything else receives a typed, validated `Config`. */
export interface Config {
  port: number;
  host: string;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** A PostgreSQL server; when absent the embedded one starts under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  /** What carries key-cache invalidations between API nodes: PostgreSQL LISTEN/NOTIFY, or Redis pub/sub. */
  invalidationChannel: 'postgres' | 'redis';
  /** This process's name in logs and `/healthz` (random when not set). */
  nodeId: string | undefined;
  sessions: SessionTimeouts;
  /**
   * The 32-byte AES-256-GCM key that encrypts TOTP seeds at rest (`SECRETS_ENCRYPTION_KEY`). Absent = the server
   * makes one on first start and keeps it in `dataDir` (see `resolveSecretsKey`). Never logged.
   */
  secretsEncryptionKey: Buffer | undefined;
  /** Express `trust proxy` setting: false, or the proxies whose X-Forwarded-For we believe. */
  trustedProxies: string[] | false;
  /** Extra origins allowed to send cookie-authenticated mutations (CSRF allowlist), besides our own host. */
  allowedOrigins: string[];
  /** `namespace` prefixes every counter key, so several environments can share one Redis. */
  rateLimits: { enabled: boolean; policies: Record<RateTier, RatePolicy>; namespace: string };
  /** The built settings app, served from our own origin; absent = API only. */
  webDist: string | undefined;
  /** The getting-started guide and its worked examples (`docs/` at the repository root). */
  docsDir: string;
  /** Request body limit in bytes (413 above it). */
  bodyLimitBytes: number;
  /** Active API keys one user may hold (KEY_LIMIT_REACHED beyond it). */
  maxActiveKeysPerUser: number;
  items: {
    /** One uploaded file's bytes (413 above it). */
    fileMaxBytes: number;
    /** A whole multipart upload request's bytes (413 above it): what one request may hold in memory. */
    uploadMaxBytes: number;
    /** A JSON text-item batch's body (413 above it): the item routes' own limit instead of `bodyLimitBytes`. */
    textBatchMaxBytes: number;
  };
  mail: {
    /** A real SMTP server; absent = each mail is written as an `.eml` file under `dir` and its link logged. */
    smtpUrl: string | undefined;
    from: string;
    dir: string;
  };
  /** The address people reach the settings app at, for links in mails; absent = the address we listen on. */
  publicUrl: string | undefined;
  /**
   * Passkeys (WebAuthn): the relying party. `rpId` absent = the host of the settings app's address (PUBLIC_URL or
   * the listen address; `localhost` for a loopback IP, which browsers refuse as an RP ID); `origins` empty = that
   * address's origin and the CSRF allowlist.
   */
  webauthn: { rpId: string | undefined; rpName: string; origins: string[] };
  /** How often this process enforces organizations' "revoke keys unused for N days"; null = never (`off`). */
  staleKeySweepIntervalMs: number | null;
  /** Per-key and per-organization usage counts: `enabled` false only for benchmarks; written every `flushMs`. */
  usage: { enabled: boolean; flushMs: number };
  runs: {
    /** `in-process`: this API process works runs too; `off`: only separate worker processes do. */
    workers: 'in-process' | 'off';
    /** Runs worked at once by one process. */
    concurrency: number;
    /** Items judged per transaction: the unit of progress, cancellation and resumption. */
    chunkSize: number;
    /** pg-boss job heartbeat: a killed worker's run is handed out again this long (plus the supervise interval) later. */
    heartbeatSeconds: number;
    superviseIntervalSeconds: number;
  };
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1);
}

const duration = (fallbackMs: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallbackMs;
      const ms = parseDuration(v);
      if (ms === null || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration like 30m, 12h or 7d` });
        return z.NEVER;
      }
      return ms;
    });

const rate = (tier: RateTier) =>
  z
    .string()
    .optional()
    .transform((v, ctx): RatePolicy => {
      const base = DEFAULT_RATE_POLICIES[tier];
      if (v === undefined || v === '') return base;
      const parsed = parseRateSpec(v);
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a rate like 60/1m or 1200/60s` });
        return z.NEVER;
      }
      return { ...base, ...parsed };
    });

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATA_DIR: z.string().optional(),
  REDIS_URL: z
    .string()
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  INVALIDATION_CHANNEL: z.enum(['postgres', 'redis']).default('postgres'),
  NODE_ID: z
    .string()
    .regex(/^[\w.-]{1,40}$/)
    .optional(),
  SESSION_ABSOLUTE_TIMEOUT: duration(DEFAULT_SESSION_TIMEOUTS.absoluteMs),
  SESSION_IDLE_TIMEOUT: duration(DEFAULT_SESSION_TIMEOUTS.idleMs),
  TRUSTED_PROXIES: list,
  ALLOWED_ORIGINS: list,
  RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  USAGE_COUNTING: z.enum(['on', 'off']).default('on'),
  USAGE_FLUSH_INTERVAL: duration(10_000),
  RATE_LIMIT_NAMESPACE: z
    .string()
    .regex(/^[\w.-]{1,40}$/)
    .default('crowdee'),
  RATE_LIMIT_ANONYMOUS: rate('anonymous'),
  RATE_LIMIT_AUTHENTICATED: rate('authenticated'),
  RATE_LIMIT_SIGN_IN: rate('sign-in'),
  RATE_LIMIT_PASSKEY_SIGN_IN: rate('passkey-sign-in'),
  RATE_LIMIT_SIGN_UP: rate('sign-up'),
  RATE_LIMIT_LEAK_REPORT: rate('leak-report'),
  RATE_LIMIT_HEALTH: rate('health'),
  API_KEYS_PER_USER_MAX: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_MAX_ACTIVE_KEYS_PER_USER),
  RATE_LIMIT_PASSWORD_RESET: rate('password-reset'),
  RATE_LIMIT_PASSWORD_RESET_EMAIL: rate('password-reset-email'),
  RATE_LIMIT_VERIFICATION_EMAIL: rate('verification-email'),
  RATE_LIMIT_INVITATION: rate('invitation'),
  RATE_LIMIT_PASSWORD_CHANGE: rate('password-change'),
  RATE_LIMIT_REAUTHENTICATION: rate('reauthentication'),
  RATE_LIMIT_MAILED_LINK: rate('mailed-link'),
  RATE_LIMIT_SECOND_FACTOR: rate('second-factor'),
  SECRETS_ENCRYPTION_KEY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const key = parseSecretKey(v);
      // The message never repeats the value: it is a secret even when mistyped.
      if (!key) ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex digits or base64' });
      return key ?? undefined;
    }),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  MAIL_FROM: z.string().min(3).max(320).default('Crowdee <no-reply@crowdee.localhost>'),
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  WEBAUTHN_RP_ID: z
    .string()
    .regex(/^[a-z0-9.-]{1,253}$/i, 'must be a domain name such as example.com')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  WEBAUTHN_RP_NAME: z.string().min(1).max(100).default('Crowdee'),
  WEBAUTHN_ORIGINS: list,
  WEB_DIST: z.string().optional(),
  STALE_KEY_SWEEP_INTERVAL: z
    .literal('off')
    .transform(() => null)
    .or(duration(3_600_000)),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(102_400),
  WORKERS: z.enum(['in-process', 'off']).default('in-process'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  RUN_CHUNK_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  WORKER_HEARTBEAT_SECONDS: z.coerce.number().int().min(10).max(3600).default(15),
  ITEM_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1_073_741_824)
    .default(ITEM_FILE_MAX_BYTES_DEFAULT),
  ITEM_UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1_073_741_824)
    .default(64 * 1024 * 1024),
  ITEM_BATCH_BODY_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1_073_741_824)
    .default(16 * 1024 * 1024),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  if (e.INVALIDATION_CHANNEL === 'redis' && !e.REDIS_URL) {
    throw new Error('Invalid configuration:\n  INVALIDATION_CHANNEL: "redis" needs REDIS_URL');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR ?? `${repoRoot}.data`,
    redisUrl: e.REDIS_URL,
    invalidationChannel: e.INVALIDATION_CHANNEL,
    nodeId: e.NODE_ID,
    sessions: { absoluteMs: e.SESSION_ABSOLUTE_TIMEOUT, idleMs: e.SESSION_IDLE_TIMEOUT },
    secretsEncryptionKey: e.SECRETS_ENCRYPTION_KEY,
    trustedProxies: e.TRUSTED_PROXIES.length > 0 ? e.TRUSTED_PROXIES : false,
    allowedOrigins: e.ALLOWED_ORIGINS,
    rateLimits: {
      enabled: e.RATE_LIMITS === 'on',
      namespace: e.RATE_LIMIT_NAMESPACE,
      policies: {
        anonymous: e.RATE_LIMIT_ANONYMOUS,
        authenticated: e.RATE_LIMIT_AUTHENTICATED,
        'sign-in': e.RATE_LIMIT_SIGN_IN,
        'passkey-sign-in': e.RATE_LIMIT_PASSKEY_SIGN_IN,
        'sign-up': e.RATE_LIMIT_SIGN_UP,
        'leak-report': e.RATE_LIMIT_LEAK_REPORT,
        health: e.RATE_LIMIT_HEALTH,
        'password-reset': e.RATE_LIMIT_PASSWORD_RESET,
        'password-reset-email': e.RATE_LIMIT_PASSWORD_RESET_EMAIL,
        'verification-email': e.RATE_LIMIT_VERIFICATION_EMAIL,
        invitation: e.RATE_LIMIT_INVITATION,
        'password-change': e.RATE_LIMIT_PASSWORD_CHANGE,
        reauthentication: e.RATE_LIMIT_REAUTHENTICATION,
        'mailed-link': e.RATE_LIMIT_MAILED_LINK,
        'second-factor': e.RATE_LIMIT_SECOND_FACTOR,
      },
    },
    webDist: e.WEB_DIST ?? `${repoRoot}apps/web/dist`,
    docsDir: `${repoRoot}docs`,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    maxActiveKeysPerUser: e.API_KEYS_PER_USER_MAX,
    items: {
      fileMaxBytes: e.ITEM_FILE_MAX_BYTES,
      uploadMaxBytes: Math.max(e.ITEM_UPLOAD_MAX_BYTES, e.ITEM_FILE_MAX_BYTES),
      textBatchMaxBytes: e.ITEM_BATCH_BODY_MAX_BYTES,
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      dir: `${e.DATA_DIR ?? `${repoRoot}.data`}/mail`,
    },
    publicUrl: e.PUBLIC_URL,
    webauthn: { rpId: e.WEBAUTHN_RP_ID, rpName: e.WEBAUTHN_RP_NAME, origins: e.WEBAUTHN_ORIGINS },
    staleKeySweepIntervalMs: e.STALE_KEY_SWEEP_INTERVAL,
    usage: { enabled: e.USAGE_COUNTING === 'on', flushMs: e.USAGE_FLUSH_INTERVAL },
    runs: {
      workers: e.WORKERS,
      concurrency: e.WORKER_CONCURRENCY,
      chunkSize: e.RUN_CHUNK_SIZE,
      heartbeatSeconds: e.WORKER_HEARTBEAT_SECONDS,
      // Often enough that a dead worker's run moves on within about one heartbeat more.
      superviseIntervalSeconds: Math.max(1, Math.ceil(e.WORKER_HEARTBEAT_SECONDS / 3)),
    },
  };
}

/** A complete configuration for tests and benchmarks, without touching the environment. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMITS: 'off' });
  // Mail that no test SMTP server receives (benchmarks) lands in the system's temporary folder, not the repo.
  const mail = { ...base.mail, dir: join(tmpdir(), 'crowdee-test-mail') };
  // Tests run the stale-key sweep themselves, at the moment their injected clock says; they start run workers where
  // they need them (startTestApp's `workers`), not in every server.
  const runs = { ...base.runs, workers: 'off' as const };
  // Each test app encrypts TOTP seeds with a key of its own, made here (its database is thrown away with it).
  const secretsEncryptionKey = randomBytes(32);
  return {
    ...base,
    webDist: undefined,
    mail,
    staleKeySweepIntervalMs: null,
    runs,
    secretsEncryptionKey,
    ...overrides,
  };
}
