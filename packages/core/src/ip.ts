import { isIP } from 'node:net';

/**
 * The bucket an anonymous caller is counted in: an IPv4 address as is, an IPv6 address by its /56 prefix (one
 * customer site usually holds a whole /56, so counting per /128 would let anyone multiply their budget by 2^72).
 */
export function ipBucket(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (isIP(ip) === 4) return ip;
  if (isIP(ip) !== 6) return 'invalid';
  const groups = expandIpv6(ip);
  // First 56 bits: three full 16-bit groups and the high byte of the fourth.
  const fourth = (groups[3] ?? 0) & 0xff00;
  const prefix = [groups[0] ?? 0, groups[1] ?? 0, groups[2] ?? 0, fourth]
    .map((g) => g.toString(16))
    .join(':');
  return `${prefix}::/56`;
}

function expandIpv6(ip: string): number[] {
  const withoutZone = ip.split('%')[0] ?? ip;
  let text = withoutZone;
  // An embedded IPv4 tail (::1.2.3.4) becomes two hex groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${(((a ?? 0) << 8) | (b ?? 0)).toString(16)}:${(((c ?? 0) << 8) | (d ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const all = [...headGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups];
  return all.map((g) => Number.parseInt(g, 16) || 0);
}
