import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets we must be able to read back (TOTP seeds) are stored encrypted: AES-256-GCM with a 32-byte key from
 * configuration and a fresh 96-bit IV per value. The stored text is `v1.<iv>.<ciphertext>.<tag>` (base64url).
 * `context` (e.g. the owning row's user id) is bound as associated data: a ciphertext copied to another row does
 * not decrypt there. Tampering with any part makes `openSecret` throw; it never returns a wrong plaintext.
 */
export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Reads an encryption key as configured: 64 hex digits, or base64/base64url of exactly 32 bytes. Null for
 * anything else, so a mistyped key stops the server at start instead of encrypting with something unexpected.
 */
export function parseSecretKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return null;
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === SECRET_KEY_BYTES ? bytes : null;
}

/** A new random key, base64 (for `SECRETS_ENCRYPTION_KEY`). */
export function generateSecretKey(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}

function assertKey(key: Uint8Array): void {
  if (key.length !== SECRET_KEY_BYTES) throw new Error('secret-box: the key must be 32 bytes');
}

export function sealSecret(plaintext: string, key: Uint8Array, context: string): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, ciphertext, tag]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Decrypts what `sealSecret` made with the same key and context; throws on any other key, context or change. */
export function openSecret(sealed: string, key: Uint8Array, context: string): string {
  assertKey(key);
  const parts = sealed.split('.');
  const [version, ivText, ctText, tagText] = parts;
  if (
    parts.length !== 4 ||
    version !== VERSION ||
    ivText === undefined ||
    ctText === undefined ||
    tagText === undefined
  )
    throw new Error('secret-box: not a sealed secret');
  if (![ivText, ctText, tagText].every((p) => B64URL.test(p)))
    throw new Error('secret-box: not a sealed secret');
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('secret-box: not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch (error) {
    throw new Error('secret-box: the sealed secret was altered or the key is wrong', { cause: error });
  }
}
