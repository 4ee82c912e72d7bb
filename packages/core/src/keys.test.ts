import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE62_ALPHABET, crc32, randomBase62 } from './encoding.ts';
import {
  DEFAULT_MAX_ACTIVE_KEYS_PER_USER,
  findKeys,
  generateKey,
  hashKey,
  KEY_ENTROPY_BITS,
  KEY_LENGTH,
  KEY_PREFIX,
  keyChecksum,
  keyHint,
  mayCreateAnotherKey,
  parseKey,
  redactKeys,
} from './keys.ts';
import { generateSessionBoundToken } from './session-tokens.ts';

/** A deterministic byte source, so generated keys can be pinned. */
function counterFill(step: number): (bytes: Uint8Array) => void {
  let i = 0;
  return (bytes) => {
    for (let j = 0; j < bytes.length; j++) bytes[j] = (i++ * step) % 256;
  };
}

describe('key format: fixed vectors (checked independently with Python zlib.crc32 and hashlib.sha256)', () => {
  it('CRC-32 is the IEEE polynomial (check value of "123456789")', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('pins checksum and hash of a generated key', () => {
    const k = generateKey(counterFill(7));
    expect(k.key).toBe('cdk_07ELSZgnu18FMTahov29GNUbipw3AH2E7OKR'); // crowdee-scan:allow (pinned test vector, never issued)
    expect(keyChecksum('cdk_07ELSZgnu18FMTahov29GNUbipw3AH')).toBe('2E7OKR');
    expect(k.hash).toBe('7f1ae898db4bc487c340e6365b571b874524c7d36e2eb2c593b2550f94feaee6');
    expect(k.hint).toBe('cdk_07EL…7OKR');
  });

  it('pins the all-zero key', () => {
    const key = 'cdk_0000000000000000000000000000001A2daQ'; // crowdee-scan:allow (pinned test vector)
    expect(keyChecksum(key.slice(0, 34))).toBe('1A2daQ');
    expect(parseKey(key)).toEqual({ ok: true, key });
    expect(hashKey(key)).toBe('6d7350881ac04c37d467ca53feab645a52ec3e7294b1b8d16710aa4b11d7e315');
  });
});

describe('generateKey', () => {
  it('has the fixed length, prefix and at least 160 bits of entropy', () => {
    const { key } = generateKey();
    expect(key).toHaveLength(KEY_LENGTH);
    expect(key.startsWith(KEY_PREFIX)).toBe(true);
    expect(KEY_ENTROPY_BITS).toBeGreaterThanOrEqual(160);
  });

  it('never repeats across many draws', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => generateKey().key));
    expect(seen.size).toBe(2000);
  });

  it('uses every base62 character in the random part (no modulo bias that drops characters)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      for (const c of generateKey().key.slice(4, 34)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
  });
});

describe('parseKey', () => {
  const valid = 'cdk_07ELSZgnu18FMTahov29GNUbipw3AH2E7OKR'; // crowdee-scan:allow (pinned test vector)

  it.each([
    ['wrong prefix', `xdk_${valid.slice(4)}`, 'prefix'],
    ['Stripe-like prefix', `sk_live_${valid.slice(4)}`, 'prefix'],
    ['too short', valid.slice(0, -1), 'length'],
    ['too long', `${valid}a`, 'length'],
    ['bad alphabet', `${valid.slice(0, 10)}-${valid.slice(11)}`, 'alphabet'],
    ['bad checksum', `${valid.slice(0, -1)}${valid.endsWith('R') ? 'S' : 'R'}`, 'checksum'],
    ['empty', '', 'prefix'],
  ])('rejects %s', (_label, candidate, reason) => {
    expect(parseKey(candidate)).toEqual({ ok: false, reason });
  });

  it('property: every generated key parses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (seed) => {
        let offset = 0;
        const { key } = generateKey((bytes) => {
          for (let j = 0; j < bytes.length; j++) bytes[j] = seed[offset++ % seed.length] ?? 0;
        });
        return parseKey(key).ok;
      }),
      { numRuns: 300 },
    );
  });

  it('property: every one-character mutation of a valid key is rejected', () => {
    const alphabet = [...BASE62_ALPHABET, '_', '-', '.', ' ', 'é'];
    fc.assert(
      fc.property(
        fc.nat({ max: KEY_LENGTH - 1 }),
        fc.constantFrom(...alphabet),
        fc.boolean(),
        (position, replacement, fresh) => {
          const key = fresh ? generateKey().key : valid;
          if (key[position] === replacement) return true;
          const mutated = key.slice(0, position) + replacement + key.slice(position + 1);
          return !parseKey(mutated).ok;
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('exhaustively: no single substitution within the alphabet survives the checksum', () => {
    for (let position = 4; position < KEY_LENGTH; position++) {
      for (const c of BASE62_ALPHABET) {
        if (valid[position] === c) continue;
        const mutated = valid.slice(0, position) + c + valid.slice(position + 1);
        expect(parseKey(mutated).ok).toBe(false);
      }
    }
  });
});

describe('keyHint and redaction', () => {
  it('property: a hint reveals at most 8 of the 36 characters after the prefix and cannot parse', () => {
    fc.assert(
      fc.property(fc.constant(null), () => {
        const { key, hint } = generateKey();
        const revealed = hint.replace(KEY_PREFIX, '').replace('…', '');
        return revealed.length === 8 && !parseKey(hint).ok && hint === keyHint(key);
      }),
      { numRuns: 100 },
    );
  });

  it('redacts every key in free text to its hint', () => {
    const a = generateKey();
    const b = generateKey();
    const text = `Authorization: Bearer ${a.key}, also ${b.key}.`;
    const redacted = redactKeys(text);
    expect(redacted).not.toContain(a.key);
    expect(redacted).not.toContain(b.key);
    expect(redacted).toContain(a.hint);
    expect(redacted).toContain(b.hint);
  });

  it('hash is 64 hex characters and differs from the key', () => {
    const { key, hash } = generateKey();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(key.slice(4));
  });
});

describe('active keys per user', () => {
  it('allows keys up to the cap and refuses the one beyond it', () => {
    expect(DEFAULT_MAX_ACTIVE_KEYS_PER_USER).toBe(50);
    expect(mayCreateAnotherKey(49, 50)).toBe(true);
    expect(mayCreateAnotherKey(50, 50)).toBe(false);
    fc.assert(
      fc.property(fc.nat(200), fc.integer({ min: 1, max: 200 }), (active, cap) => {
        expect(mayCreateAnotherKey(active, cap)).toBe(active + 1 <= cap);
      }),
    );
  });
});

describe('findKeys', () => {
  const base62 = fc.constantFrom(...BASE62_ALPHABET.split(''));
  const body = fc.string({ unit: base62, minLength: 30, maxLength: 30 }).map((r) => `${KEY_PREFIX}${r}`);
  const validKey = body.map((b) => b + keyChecksum(b));
  /** Same shape as a key, checksum wrong: what a scanner must never report. */
  const lookAlike = fc
    .tuple(body, fc.string({ unit: base62, minLength: 6, maxLength: 6 }))
    .filter(([b, checksum]) => checksum !== keyChecksum(b))
    .map(([b, checksum]) => b + checksum);
  const text = fc.string({ unit: 'grapheme', maxLength: 60 });

  it('finds a key wherever it sits in any text, with its line and column', () => {
    fc.assert(
      fc.property(text, validKey, text, (before, key, after) => {
        const all = findKeys(before + key + after);
        const hit = all.find((f) => f.index === before.length);
        expect(hit?.key).toBe(key);
        const lines = before.split('\n');
        expect([hit?.line, hit?.column]).toEqual([lines.length, (lines.at(-1) ?? '').length + 1]);
      }),
    );
  });

  it('reports only real keys: each hit is the text at its offset and passes parseKey', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(text, validKey, lookAlike), { maxLength: 12 }), (parts) => {
        const joined = parts.join('');
        for (const f of findKeys(joined)) {
          expect(joined.slice(f.index, f.index + KEY_LENGTH)).toBe(f.key);
          expect(parseKey(f.key).ok).toBe(true);
        }
      }),
    );
  });

  it('never reports a look-alike with a wrong checksum, alone or among other text', () => {
    fc.assert(
      fc.property(text, lookAlike, text, (before, fake, after) => {
        expect(findKeys(`${before} ${fake} ${after}`).map((f) => f.key)).not.toContain(fake);
      }),
      { numRuns: 2000 },
    );
  });

  it('finds every key of a text in order, including keys glued together or to escapes', () => {
    fc.assert(
      fc.property(
        fc.array(validKey, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('', '\\n', ' ', '"'),
        (keys, glue) => {
          expect(findKeys(keys.join(glue)).map((f) => f.key)).toEqual(keys);
        },
      ),
    );
  });

  it('finds session tokens (cds_) too, told apart from keys, in order among keys', () => {
    const token = fc.constant(null).map(() => generateSessionBoundToken().key);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(validKey, token), { minLength: 1, maxLength: 6 }),
        text,
        (secrets, glue) => {
          const hits = findKeys(secrets.join(glue.replace(/cd[ks]_/g, '')));
          expect(hits.map((f) => f.key)).toEqual(secrets);
          expect(hits.map((f) => f.kind)).toEqual(
            secrets.map((k) => (k.startsWith(KEY_PREFIX) ? 'key' : 'session-token')),
          );
        },
      ),
    );
  });

  it('a key with its prefix swapped to cds_ (or a token to cdk_) fails the checksum and is not reported', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        expect(findKeys(`cds_${key.slice(4)}`)).toEqual([]);
        const token = generateSessionBoundToken().key;
        expect(findKeys(`cdk_${token.slice(4)}`)).toEqual([]);
      }),
    );
  });

  it('finds a real key hidden behind a look-alike prefix (scans again from the next character)', () => {
    const key = generateKey(counterFill(7)).key;
    // "cdk_" + 33 base62 followed by the key: the first candidate swallows "cdk" of the key and fails its checksum.
    const text = `cdk_${'A'.repeat(33)}${key}`;
    expect(findKeys(text).map((f) => f.key)).toEqual([key]);
  });

  it('counts lines by \\n, with \\r\\n line ends', () => {
    const key = generateKey(counterFill(7)).key;
    expect(findKeys(`a\r\nb\r\n  key=${key}\r\n`)).toEqual([
      { key, kind: 'key', index: 12, line: 3, column: 7 },
    ]);
  });

  it('100,000 random strings of the key shape with a wrong checksum: 0 hits', () => {
    let hits = 0;
    for (let i = 0; i < 100_000; i++) {
      const b = `${KEY_PREFIX}${randomBase62(30)}`;
      const right = keyChecksum(b);
      let wrong = randomBase62(6);
      while (wrong === right) wrong = randomBase62(6);
      hits += findKeys(`token ${b}${wrong} end`).length;
    }
    expect(hits).toBe(0);
  });
});
