/**
 * IP addresses and CIDR ranges, parsed by hand (no `node:net`: the settings app validates allowlists with the same
 * code). Strict on purpose: an allowlist entry that means something other than what its author read (octal
 * `010.0.0.1`, a zone id, a prefix with leading zeros) is refused, never guessed at.
 */

export type IpVersion = 4 | 6;

/** An address as a number: 32 bits for IPv4, 128 bits for IPv6. */
export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

/** A range: the address with its host bits cleared, and the prefix length. */
export interface Cidr {
  version: IpVersion;
  base: bigint;
  prefix: number;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // Decimal only, no leading zeros: `010` is octal 8 to some parsers and decimal 10 to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseGroups(text: string): bigint[] | null {
  if (text === '') return [];
  const groups: bigint[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
      groups.push(BigInt(`0x${part}`));
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 part may only end the address.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return null;
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return null;
  const groups = [...head, ...Array<bigint>(8 - count).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/**
 * Parses one address. With `allowZone`, an IPv6 zone id (`fe80::1%eth0`) is accepted and dropped: a socket may
 * report one, and the zone names an interface of the server, not the client.
 */
export function parseIp(text: string, options: { allowZone?: boolean } = {}): IpAddress | null {
  if (text.length === 0 || text.length > 64) return null;
  if (!text.includes(':')) {
    const v4 = parseIpv4(text);
    return v4 === null ? null : { version: 4, value: v4 };
  }
  let address = text;
  const zone = text.indexOf('%');
  if (zone !== -1) {
    if (!options.allowZone || zone === text.length - 1) return null;
    address = text.slice(0, zone);
  }
  const v6 = parseIpv6(address);
  return v6 === null ? null : { version: 6, value: v6 };
}

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) is the IPv4 address. */
export function unmapIp(ip: IpAddress): IpAddress {
  if (ip.version === 6 && ip.value >> 32n === 0xffffn) return { version: 4, value: ip.value & 0xffffffffn };
  return ip;
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
}

/** RFC 5952: lower case, no leading zeros, the longest run (two or more) of zero groups as `::`, first on a tie. */
function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.version === 4 ? formatIpv4(ip.value) : formatIpv6(ip.value);
}

function mask(version: IpVersion, prefix: number): bigint {
  const bits = BigInt(BITS[version]);
  const all = (1n << bits) - 1n;
  return (all >> BigInt(prefix)) ^ all;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ version: cidr.version, value: cidr.base })}/${cidr.prefix}`;
}

export type CidrResult = { ok: true; cidr: Cidr; text: string } | { ok: false; message: string };

/**
 * One allowlist entry: an address (a single host) or `address/prefix`. Host bits are cleared and the text is
 * normalised (`10.1.2.3/8` → `10.0.0.0/8`, `2001:DB8::0:1` → `2001:db8::1/128`); an IPv4-mapped IPv6 range of
 * /96 or longer becomes the IPv4 range it means, since mapped client addresses are compared as IPv4.
 */
export function parseCidr(input: string): CidrResult {
  const text = input.trim();
  if (text.length === 0) return { ok: false, message: 'Empty entry.' };
  if (text.length > 64) return { ok: false, message: 'Too long to be an address or range.' };
  if (text.includes('%')) {
    return {
      ok: false,
      message: 'Zone ids (such as %eth0) name an interface on one machine, not an address: leave them out.',
    };
  }
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  const parsed = parseIp(addressText);
  if (parsed === null) return { ok: false, message: `"${text}" is not an IPv4 or IPv6 address or range.` };
  let prefix = BITS[parsed.version];
  if (prefixText !== null) {
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > BITS[parsed.version]) {
      return {
        ok: false,
        message: `The prefix length of "${text}" must be a whole number from 1 to ${BITS[parsed.version]}.`,
      };
    }
    prefix = Number(prefixText);
  }
  if (prefix === 0) {
    return {
      ok: false,
      message: `"${text}" allows every address: leave the list empty for a key that works from anywhere.`,
    };
  }
  let ip = parsed;
  if (parsed.version === 6 && prefix >= 96 && parsed.value >> 32n === 0xffffn) {
    ip = unmapIp(parsed);
    prefix -= 96;
    if (prefix === 0) {
      return { ok: false, message: `"${text}" allows every IPv4 address: leave the list empty instead.` };
    }
  }
  const cidr: Cidr = { version: ip.version, base: ip.value & mask(ip.version, prefix), prefix };
  return { ok: true, cidr, text: formatCidr(cidr) };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.version === ip.version && (ip.value & mask(ip.version, cidr.prefix)) === cidr.base;
}

/** At most this many entries in a key's allowlist. */
export const KEY_ALLOWED_IPS_MAX = 50;

export type AllowlistResult =
  | { ok: true; entries: string[] }
  | { ok: false; errors: { index: number; message: string }[] };

/** Validates and normalises a key's allowlist: every entry a valid range, duplicates (after normalising) dropped. */
export function parseAllowlist(entries: readonly string[]): AllowlistResult {
  if (entries.length > KEY_ALLOWED_IPS_MAX) {
    return {
      ok: false,
      errors: [{ index: KEY_ALLOWED_IPS_MAX, message: `At most ${KEY_ALLOWED_IPS_MAX} entries.` }],
    };
  }
  const errors: { index: number; message: string }[] = [];
  const out: string[] = [];
  for (const [index, entry] of entries.entries()) {
    const result = parseCidr(entry);
    if (!result.ok) errors.push({ index, message: result.message });
    else if (!out.includes(result.text)) out.push(result.text);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, entries: out };
}

/**
 * The stored allowlist, ready to check requests against. `null` = no allowlist (any address). A stored list is
 * never widened: an entry that no longer parses is dropped, so a list whose every entry is bad allows nothing.
 */
export function compileAllowlist(entries: readonly string[] | null): Cidr[] | null {
  if (entries === null || entries.length === 0) return null;
  const out: Cidr[] = [];
  for (const entry of entries) {
    const result = parseCidr(entry);
    if (result.ok) out.push(result.cidr);
  }
  return out;
}

/**
 * May a request from `clientIp` use a key with this allowlist? No allowlist: yes. Otherwise the client address
 * (IPv4-mapped IPv6 compared as IPv4, a zone id ignored) must fall in one of the ranges; an unknown or unparseable
 * address never does.
 */
export function ipAllowed(clientIp: string | null, allowlist: readonly Cidr[] | null): boolean {
  if (allowlist === null) return true;
  if (clientIp === null) return false;
  const parsed = parseIp(clientIp, { allowZone: true });
  if (parsed === null) return false;
  const ip = unmapIp(parsed);
  return allowlist.some((cidr) => cidrContains(cidr, ip));
}

/**
 * The bucket an anonymous caller is counted in: an IPv4 address as is, an IPv6 address by its /56 prefix (one
 * customer site usually holds a whole /56, so counting per /128 would let anyone multiply their budget by 2^72).
 */
export function ipBucket(text: string): string {
  const parsed = parseIp(text, { allowZone: true });
  if (parsed === null) return 'invalid';
  const ip = unmapIp(parsed);
  if (ip.version === 4) return formatIpv4(ip.value);
  // First 56 bits: three full 16-bit groups and the high byte of the fourth.
  const groups = [0, 1, 2, 3].map((i) => (ip.value >> BigInt(112 - 16 * i)) & 0xffffn);
  groups[3] = (groups[3] ?? 0n) & 0xff00n;
  return `${groups.map((g) => g.toString(16)).join(':')}::/56`;
}
