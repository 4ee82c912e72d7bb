import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSecretKey, parseSecretKey } from '@crowdee/core';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

/** Where the development key lives when SECRETS_ENCRYPTION_KEY is not set. */
export function devSecretsKeyPath(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'secrets-encryption.key');
}

/**
 * The key that encrypts TOTP seeds: SECRETS_ENCRYPTION_KEY when configured; otherwise (the embedded, no-set-up
 * default) a random key made on first start and kept in DATA_DIR beside the embedded database, so a restart can
 * still read what it encrypted. Several nodes sharing DATA_DIR agree on one file (the first writer wins). The key
 * itself is never logged; losing it means every authenticator app must be set up again.
 */
export async function resolveSecretsKey(config: Config, logger: Logger): Promise<Buffer> {
  if (config.secretsEncryptionKey) return config.secretsEncryptionKey;
  const path = devSecretsKeyPath(config);
  await mkdir(config.dataDir, { recursive: true });
  try {
    await writeFile(path, `${generateSecretKey()}\n`, { flag: 'wx', mode: 0o600 });
    logger.warn(
      { path },
      'SECRETS_ENCRYPTION_KEY is not set: generated a key for TOTP seeds in this file; set SECRETS_ENCRYPTION_KEY in production',
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    logger.info({ path }, 'SECRETS_ENCRYPTION_KEY is not set: using the generated key in this file');
  }
  const key = parseSecretKey(await readFile(path, 'utf8'));
  if (!key) throw new Error(`${path} does not hold a 32-byte key (64 hex digits or base64)`);
  return key;
}
