import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileAllowlist,
  formatIp,
  ipAllowed,
  KEY_ALLOWED_IPS_MAX,
  parseAllowlist,
  parseCidr,
  parseIp,
} from './ip.ts';

const allow = (entries: string[]) => compileAllowlist(entries);

describe('parseIp', () => {
  it('reads IPv4 and the IPv6 spellings', () => {
    expect(parseIp('192.0.2.1')).toEqual({ version: 4, value: 0xc0000201n });
    expect(parseIp('::1')).toEqual({ version: 6, value: 1n });
    expect(parseIp('::')).toEqual({ version: 6, value: 0n });
    expect(parseIp('2001:DB8:0:0:0:0:0:1')).toEqual(parseIp('2001:db8::1'));
    expect(parseIp('::ffff:192.0.2.1')).toEqual({ version: 6, value: 0xffffc0000201n });
    expect(parseIp('1:2:3:4:5:6:7::')?.version).toBe(6);
    expect(parseIp('::2:3:4:5:6:7:8')?.version).toBe(6);
  });

  it('refuses what other parsers read differently or not at all', () => {
    for (const bad of [
      '',
      '010.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '1.2.3.4 ',
      '0x7f.0.0.1',
      '2130706433',
      ':::1',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7::8',
      '12345::1',
      '::ffff:1.2.3.4.5',
      '1.2.3.4::',
      'fe80::1%eth0',
      'g::1',
      '[::1]',
    ]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('takes a zone id only where asked (a socket address), and drops it', () => {
    expect(parseIp('fe80::1%eth0', { allowZone: true })).toEqual(parseIp('fe80::1'));
    expect(parseIp('fe80::1%', { allowZone: true })).toBeNull();
  });

  it('property: every IPv4 and IPv6 value formats and parses back, in a form node:net accepts', () => {
    const v4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ version: 4 as const, value }));
    const v6 = fc
      .bigInt({ min: 0n, max: (1n << 128n) - 1n })
      .map((value) => ({ version: 6 as const, value }));
    fc.assert(
      fc.property(fc.oneof(v4, v6), (ip) => {
        const text = formatIp(ip);
        expect(parseIp(text)).toEqual(ip);
        expect(isIP(text)).toBe(ip.version);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: never accepts a string node:net rejects', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.%/ x'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 45 }), (text) => {
        const parsed = parseIp(text);
        if (parsed !== null) expect(isIP(text)).toBe(parsed.version);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseCidr', () => {
  it('normalises: host bits cleared, RFC 5952 text, a bare address is one host', () => {
    expect(parseCidr('10.1.2.3/8')).toMatchObject({ ok: true, text: '10.0.0.0/8' });
    expect(parseCidr(' 203.0.113.7 ')).toMatchObject({ ok: true, text: '203.0.113.7/32' });
    expect(parseCidr('2001:DB8:0:0::1')).toMatchObject({ ok: true, text: '2001:db8::1/128' });
    expect(parseCidr('2001:db8:aaaa:bbbb::/48')).toMatchObject({ ok: true, text: '2001:db8:aaaa::/48' });
    expect(parseCidr('2001:0:0:1:0:0:0:1')).toMatchObject({ ok: true, text: '2001:0:0:1::1/128' });
  });

  it('turns an IPv4-mapped IPv6 range into the IPv4 range it means', () => {
    expect(parseCidr('::ffff:1.2.3.4')).toMatchObject({ ok: true, text: '1.2.3.4/32' });
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ ok: true, text: '10.0.0.0/8' });
    expect(parseCidr('::ffff:0:0/96').ok).toBe(false);
  });

  it('refuses /0, zone ids, bad prefixes and garbage', () => {
    for (const bad of [
      '0.0.0.0/0',
      '::/0',
      '1.2.3.4/33',
      '::1/129',
      '1.2.3.4/08',
      '1.2.3.4/',
      '1.2.3.4/-1',
      '1.2.3.4/1/2',
      'fe80::1%eth0/64',
      'fe80::1%25eth0',
      'localhost',
      '*',
      '10.0.0.0/8; drop table',
      'a'.repeat(65),
    ]) {
      expect(parseCidr(bad).ok, bad).toBe(false);
    }
  });

  it('property: a range contains exactly the addresses sharing its first `prefix` bits', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc.integer({ min: 1, max: 128 }),
        (base, probe, prefix) => {
          const entry = `${formatIp({ version: 6, value: base })}/${prefix}`;
          const parsed = parseCidr(entry);
          if (!parsed.ok) return; // an IPv4-mapped range that would be /0 as IPv4
          const list = compileAllowlist([parsed.text]);
          const shift = BigInt(128 - prefix);
          const probeText = formatIp({ version: 6, value: probe });
          const mapped = probe >> 32n === 0xffffn || base >> 32n === 0xffffn;
          if (!mapped) expect(ipAllowed(probeText, list)).toBe(probe >> shift === base >> shift);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('parseAllowlist', () => {
  it('normalises, drops duplicates and reports every bad entry by position', () => {
    expect(parseAllowlist(['10.0.0.1/8', '10.0.0.0/8', '::1'])).toEqual({
      ok: true,
      entries: ['10.0.0.0/8', '::1/128'],
    });
    const bad = parseAllowlist(['10.0.0.0/8', 'nope', '::/0']);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.map((e) => e.index)).toEqual([1, 2]);
  });

  it(`takes at most ${KEY_ALLOWED_IPS_MAX} entries`, () => {
    const entries = Array.from({ length: KEY_ALLOWED_IPS_MAX + 1 }, (_, i) => `10.0.${i}.0/24`);
    expect(parseAllowlist(entries.slice(0, KEY_ALLOWED_IPS_MAX)).ok).toBe(true);
    expect(parseAllowlist(entries).ok).toBe(false);
  });
});

describe('ipAllowed', () => {
  it('no list: every address, even an unknown one', () => {
    expect(ipAllowed('203.0.113.7', null)).toBe(true);
    expect(ipAllowed(null, null)).toBe(true);
  });

  it('compares IPv4, IPv6, mapped and zoned client addresses', () => {
    const list = allow(['203.0.113.0/24', '2001:db8::/32']);
    expect(ipAllowed('203.0.113.7', list)).toBe(true);
    expect(ipAllowed('::ffff:203.0.113.7', list)).toBe(true);
    expect(ipAllowed('::FFFF:203.0.113.7', list)).toBe(true);
    expect(ipAllowed('203.0.114.7', list)).toBe(false);
    expect(ipAllowed('2001:db8:ffff::1', list)).toBe(true);
    expect(ipAllowed('2001:0db8:0000::0001', list)).toBe(true);
    expect(ipAllowed('2001:db9::1', list)).toBe(false);
    expect(ipAllowed('fe80::1%eth0', allow(['fe80::/64']))).toBe(true);
    // IPv4-compatible (deprecated) and NAT64 spellings are IPv6 addresses, not the IPv4 one.
    expect(ipAllowed('::203.0.113.7', list)).toBe(false);
    expect(ipAllowed('64:ff9b::203.0.113.7', list)).toBe(false);
  });

  it('fails closed: an unknown or garbled client address, or a list with nothing valid left', () => {
    const list = allow(['203.0.113.0/24']);
    expect(ipAllowed(null, list)).toBe(false);
    expect(ipAllowed('garbage', list)).toBe(false);
    expect(ipAllowed('203.0.113.7', compileAllowlist(['not a range']))).toBe(false);
  });
});
