import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { devSecretsKeyPath, resolveSecretsKey } from './secrets-key.ts';

describe('STALE_KEY_SWEEP_INTERVAL', () => {
  it('defaults to an hour, takes durations and `off`, and refuses anything else', () => {
    expect(loadConfig({}).staleKeySweepIntervalMs).toBe(3_600_000);
    expect(loadConfig({ STALE_KEY_SWEEP_INTERVAL: '15m' }).staleKeySweepIntervalMs).toBe(900_000);
    expect(loadConfig({ STALE_KEY_SWEEP_INTERVAL: 'off' }).staleKeySweepIntervalMs).toBeNull();
    expect(() => loadConfig({ STALE_KEY_SWEEP_INTERVAL: 'weekly' })).toThrow(/STALE_KEY_SWEEP_INTERVAL/);
    expect(() => loadConfig({ STALE_KEY_SWEEP_INTERVAL: '0' })).toThrow(/STALE_KEY_SWEEP_INTERVAL/);
  });
});

describe('SECRETS_ENCRYPTION_KEY', () => {
  it('takes 32 bytes as hex or base64; a wrong value stops start-up without being repeated', () => {
    const raw = randomBytes(32);
    expect(loadConfig({}).secretsEncryptionKey).toBeUndefined();
    expect(
      loadConfig({ SECRETS_ENCRYPTION_KEY: raw.toString('hex') }).secretsEncryptionKey?.equals(raw),
    ).toBe(true);
    expect(
      loadConfig({ SECRETS_ENCRYPTION_KEY: raw.toString('base64') }).secretsEncryptionKey?.equals(raw),
    ).toBe(true);
    const short = randomBytes(16).toString('hex');
    expect(() => loadConfig({ SECRETS_ENCRYPTION_KEY: short })).toThrow(
      /SECRETS_ENCRYPTION_KEY: must be 32 bytes/,
    );
    try {
      loadConfig({ SECRETS_ENCRYPTION_KEY: short });
    } catch (error) {
      expect(String(error)).not.toContain(short);
    }
  });

  it('without it, the server makes a key once in DATA_DIR (owner-only), reuses it, and never logs it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'crowdee-key-'));
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger({ logLevel: 'info' }, sink);
    const config = { ...loadConfig({ DATA_DIR: dataDir }), secretsEncryptionKey: undefined };
    const first = await resolveSecretsKey(config, logger);
    const second = await resolveSecretsKey(config, logger);
    expect(first).toHaveLength(32);
    expect(second.equals(first)).toBe(true);
    const path = devSecretsKeyPath(config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = lines.join('');
    expect(text).toContain('SECRETS_ENCRYPTION_KEY is not set');
    expect(text).not.toContain(first.toString('base64'));
    expect(text).not.toContain(first.toString('hex'));
    // A configured key wins, and no file is read.
    const configured = randomBytes(32);
    expect(
      (await resolveSecretsKey({ ...config, secretsEncryptionKey: configured }, logger)).equals(configured),
    ).toBe(true);
    await writeFile(path, 'garbage\n');
    await expect(resolveSecretsKey(config, logger)).rejects.toThrow(/does not hold a 32-byte key/);
    await rm(dataDir, { recursive: true });
  });
});
