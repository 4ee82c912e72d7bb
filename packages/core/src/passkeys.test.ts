import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterAdvances, relyingPartyFor } from './passkeys.ts';

describe('relying party', () => {
  it('is the host of the app’s public address, with its origin and the CSRF allowlist', () => {
    expect(
      relyingPartyFor({
        appUrl: 'https://crowdee.example.com',
        rpName: 'Crowdee',
        allowedOrigins: ['https://admin.crowdee.example.com/'],
      }),
    ).toEqual({
      rpID: 'crowdee.example.com',
      rpName: 'Crowdee',
      origins: ['https://crowdee.example.com', 'https://admin.crowdee.example.com'],
    });
  });

  it('at a loopback IP is localhost, since browsers refuse an IP as an RP ID', () => {
    expect(relyingPartyFor({ appUrl: 'http://127.0.0.1:3000', rpName: 'C' })).toEqual({
      rpID: 'localhost',
      rpName: 'C',
      origins: ['http://127.0.0.1:3000', 'http://localhost:3000'],
    });
    expect(relyingPartyFor({ appUrl: 'http://[::1]:8080/', rpName: 'C' }).rpID).toBe('localhost');
  });

  it('takes explicit configuration over what the address says', () => {
    expect(
      relyingPartyFor({
        appUrl: 'http://127.0.0.1:3000',
        rpName: 'C',
        rpId: 'example.com',
        origins: ['https://app.example.com/', 'HTTPS://APP.EXAMPLE.COM'],
        allowedOrigins: ['https://ignored.example'],
      }),
    ).toEqual({ rpID: 'example.com', rpName: 'C', origins: ['https://app.example.com'] });
  });

  it('always accepts the app’s own origin when no origins are configured', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const rp = relyingPartyFor({ appUrl: url, rpName: 'C' });
        expect(rp.origins).toContain(new URL(url).origin.toLowerCase());
        expect(rp.origins.every((o) => !o.endsWith('/'))).toBe(true);
      }),
    );
  });
});

describe('signature counter', () => {
  it('must move forward; 0 stays acceptable only for authenticators that never count', () => {
    expect(counterAdvances(0, 0)).toBe(true);
    expect(counterAdvances(0, 1)).toBe(true);
    expect(counterAdvances(5, 6)).toBe(true);
    expect(counterAdvances(5, 5)).toBe(false);
    expect(counterAdvances(5, 4)).toBe(false);
    expect(counterAdvances(5, 0)).toBe(false);
  });

  it('accepts a reported value exactly when it is a genuine next use', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), fc.nat(2 ** 32 - 1), (stored, reported) => {
        expect(counterAdvances(stored, reported)).toBe(reported > stored || reported + stored === 0);
      }),
    );
  });
});
