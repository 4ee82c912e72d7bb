export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_RE = /^[0-9A-Za-z]*$/;

export function isBase62(value: string): boolean {
  return BASE62_RE.test(value);
}

/** Base62 of a non-negative integer, left-padded with '0' to `width` characters. */
export function base62Encode(value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError('base62Encode takes a non-negative integer');
  let out = '';
  let rest = value;
  do {
    out = BASE62_ALPHABET.charAt(rest % 62) + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  if (out.length > width) throw new RangeError(`${value} does not fit in ${width} base62 characters`);
  return out.padStart(width, '0');
}

const CRC32_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib and GitHub's token checksums use) of an ASCII string. */
export function crc32(ascii: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) {
    const byte = ascii.charCodeAt(i) & 0xff;
    crc = (CRC32_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * `length` characters drawn uniformly from the base62 alphabet using a CSPRNG. Bytes ≥ 248 are rejected so the
 * modulo does not favour the first characters (248 = 4 × 62).
 */
export function randomBase62(length: number, fill: (bytes: Uint8Array) => void = webCryptoFill): string {
  let out = '';
  const buf = new Uint8Array(Math.max(16, length * 2));
  while (out.length < length) {
    fill(buf);
    for (const byte of buf) {
      if (byte >= 248) continue;
      out += BASE62_ALPHABET.charAt(byte % 62);
      if (out.length === length) break;
    }
  }
  return out;
}

function webCryptoFill(bytes: Uint8Array): void {
  globalThis.crypto.getRandomValues(bytes);
}
