import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSecretKey, openSecret, parseSecretKey, SECRET_KEY_BYTES, sealSecret } from './secret-box.ts';

const key = randomBytes(SECRET_KEY_BYTES);
const plaintext = fc.string({ minLength: 1, maxLength: 200 });
const context = fc.string({ maxLength: 40 });

describe('secret box (AES-256-GCM)', () => {
  it('round-trips any text under the same key and context', () => {
    fc.assert(
      fc.property(plaintext, context, (text, ctx) => {
        expect(openSecret(sealSecret(text, key, ctx), key, ctx)).toBe(text);
      }),
    );
  });

  it('never stores the plaintext: the sealed text does not contain it, and two seals of one value differ', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 64 }), context, (text, ctx) => {
        const sealed = sealSecret(text, key, ctx);
        expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
        expect(sealed).not.toContain(text);
        expect(sealed).not.toContain(Buffer.from(text).toString('base64url'));
        expect(sealSecret(text, key, ctx)).not.toBe(sealed);
      }),
    );
  });

  it('refuses any change to any part, another key and another context', () => {
    fc.assert(
      fc.property(plaintext, context, fc.nat(), (text, ctx, where) => {
        const sealed = sealSecret(text, key, ctx);
        const parts = sealed.split('.');
        const index = 1 + (where % 3);
        const bytes = Buffer.from(parts[index] ?? '', 'base64url');
        bytes[where % bytes.length] = (bytes[where % bytes.length] ?? 0) ^ 1;
        parts[index] = bytes.toString('base64url');
        expect(() => openSecret(parts.join('.'), key, ctx)).toThrow(/secret-box/);
        expect(() => openSecret(sealed, randomBytes(SECRET_KEY_BYTES), ctx)).toThrow(/secret-box/);
        expect(() => openSecret(sealed, key, `${ctx}x`)).toThrow(/secret-box/);
      }),
    );
  });

  it('refuses malformed sealed text and keys of the wrong size', () => {
    for (const bad of [
      '',
      'v1',
      'v2.a.b.c',
      'v1.a.b',
      'v1.!!.b.c',
      `v1.${'A'.repeat(16)}.AA.${'A'.repeat(22)}.x`,
    ])
      expect(() => openSecret(bad, key, '')).toThrow(/secret-box/);
    expect(() => sealSecret('x', randomBytes(16), '')).toThrow(/32 bytes/);
  });

  it('reads a configured key as 64 hex digits or base64 of 32 bytes, nothing else', () => {
    const raw = randomBytes(32);
    expect(parseSecretKey(raw.toString('hex'))?.equals(raw)).toBe(true);
    expect(parseSecretKey(raw.toString('base64'))?.equals(raw)).toBe(true);
    expect(parseSecretKey(raw.toString('base64url'))?.equals(raw)).toBe(true);
    expect(parseSecretKey(` ${raw.toString('base64')}\n`)?.equals(raw)).toBe(true);
    expect(parseSecretKey(generateSecretKey())).toHaveLength(32);
    for (const bad of [
      '',
      'short',
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('hex'),
      'not base64!',
    ])
      expect(parseSecretKey(bad)).toBeNull();
  });
});
