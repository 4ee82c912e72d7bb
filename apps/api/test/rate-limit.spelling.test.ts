/**
 * The budget follows the procedure that runs, whatever the URL's spelling. Sent as an attacker sends them: raw HTTP,
 * paths byte for byte, each spelling from an address of its own (a trusted proxy's X-Forwarded-For) so its
 * counters start empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from './helpers/http-client.ts';
import { chargedPolicies, raw } from './helpers/raw-http.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

/** Each own-tier budget admits this many calls per address (and email, for sign-in): a multiple of every batch. */
const QUOTA = 4;

interface Spelling {
  path: string;
  /** How many calls of the procedure one request makes (a batch may name it twice). */
  calls: number;
  /** The request body, with a fresh input per call. */
  body: (input: () => Record<string, unknown>) => unknown;
}

const single = (path: string): Spelling => ({ path, calls: 1, body: (input) => input() });
const batch = (path: string, calls: number): Spelling => ({
  path,
  calls,
  body: (input) => Object.fromEntries(Array.from({ length: calls }, (_, i) => [String(i), input()])),
});

/** Every spelling tRPC 11 accepts for one procedure `a.b`: prefixes, case of the mount, encodings, batches. */
function trpcSpellings(procedure: string): Spelling[] {
  const [router = '', name = ''] = procedure.split('.');
  const encodedFirst = `%${router.charCodeAt(0).toString(16).toUpperCase()}${router.slice(1)}`;
  return [
    single(`/trpc/${procedure}`),
    single(`/trpc/x/${procedure}`),
    single(`/trpc/a/b/c/${procedure}`),
    single(`/trpc//${procedure}`),
    single(`/trpc/${router}/${procedure}`),
    single(`/TRPC/${procedure}`),
    single(`/Trpc/x/${procedure}`),
    single(`/trpc/${router}%2E${name}`),
    single(`/trpc/${router}%2e${name}`),
    single(`/trpc/${encodedFirst}.${name}`),
    single(`/trpc/${procedure}?batch=0`),
    single(`/trpc/${procedure}?batch=true`),
    batch(`/trpc/${procedure}?batch=1`, 1),
    batch(`/trpc/${procedure}?batch=%31`, 1),
    batch(`/trpc/${procedure}?batch=1&batch=0`, 1),
    batch(`/trpc/x/${procedure}?batch=1`, 1),
    batch(`/trpc/${procedure},${procedure}?batch=1`, 2),
    batch(`/trpc/${procedure}%2C${procedure}?batch=1`, 2),
    batch(`/trpc/x/${procedure}%2c${procedure}?x=1&batch=1`, 2),
  ];
}

/** Every spelling trpc-to-openapi 3.3 matches for POST /keys/revoke-leaked under Express's /api/v1 mount. */
const LEAK_REST_SPELLINGS: Spelling[] = [
  '/api/v1/keys/revoke-leaked',
  '/api/v1/keys/revoke-leaked/',
  '/api/v1/keys/REVOKE-LEAKED',
  '/api/v1/Keys/Revoke-Leaked/',
  '/API/V1/keys/revoke-leaked',
  '/Api/v1/keys/revoke-leaked?x=1',
  '/api/v1/keys/./revoke-leaked',
  '/api/v1/keys/%2e/revoke-leaked',
  '/api/v1/x/../keys/revoke-leaked',
  '/api/v1/x/%2E%2E/keys/revoke-leaked',
  '/api/v1/keys\\revoke-leaked',
  '/api/v1/keys/revoke-leaked#frag',
].map(single);

/** Spellings that run nothing: each must be refused (404) and still cost its sender anonymous units. */
const UNKNOWN_SPELLINGS = [
  '/trpc/auth.signIn/',
  '/trpc/AUTH.SIGNIN',
  '/trpc/auth.signin',
  '/trpc/auth.signIn%2F',
  '/trpc/x%2Fauth.signIn',
  '/trpc/auth.signIn,nope.nothing?batch=1',
  '/trpc/toString',
  '/trpc/__proto__',
  '/api/v1//keys/revoke-leaked',
  '/api/v1/keys/revoke%2Dleaked',
  '/api/v1/keys/revoke-leaked%2F',
  '/api/v1/keys/revoke-leaked.json',
];

let app: TestApp;
let address = 0;
/** A fresh client address per scenario: the app trusts the loopback proxy's X-Forwarded-For. */
const nextAddress = () => {
  address++;
  return `198.51.${Math.floor(address / 250)}.${(address % 250) + 1}`;
};

beforeAll(async () => {
  app = await startTestApp({
    config: { trustedProxies: ['loopback'] },
    limits: {
      policies: {
        anonymous: { quota: 1000, windowSeconds: 60 },
        'sign-in': { quota: QUOTA, windowSeconds: 900 },
        'sign-up': { quota: QUOTA, windowSeconds: 900 },
        'leak-report': { quota: QUOTA, windowSeconds: 60 },
      },
    },
  });
});
afterAll(async () => {
  await app?.close();
});

/**
 * Spends the whole own-tier budget through `spelling` (each request must run the procedure, never 404 or 429),
 * then shows the canonical spelling refused with 429 by that same budget.
 */
async function spendThroughSpelling(
  spelling: Spelling,
  tier: string,
  input: () => Record<string, unknown>,
  canonical: { path: string; body: unknown },
  ip: string,
): Promise<void> {
  const headers = { 'x-forwarded-for': ip };
  for (let spent = 0; spent + spelling.calls <= QUOTA; spent += spelling.calls) {
    const res = await raw(app.url, 'POST', spelling.path, { headers, body: spelling.body(input) });
    expect([spelling.path, res.status]).not.toEqual([spelling.path, 404]);
    expect([spelling.path, res.status]).not.toEqual([spelling.path, 429]);
    expect([spelling.path, chargedPolicies(res)]).toEqual([spelling.path, ['anonymous', tier]]);
  }
  const refused = await raw(app.url, 'POST', canonical.path, { headers, body: canonical.body });
  expect([spelling.path, refused.status]).toEqual([spelling.path, 429]);
  expect(refused.text).toContain(tier);
}

describe('every spelling of a public procedure pays its own budget', () => {
  it('auth.signIn, through every tRPC spelling, spends the per IP + email sign-in budget', async () => {
    for (const spelling of trpcSpellings('auth.signIn')) {
      const email = `victim-${address}@example.com`;
      const input = () => ({ email, password: 'wrong password!' });
      await spendThroughSpelling(
        spelling,
        'sign-in',
        input,
        { path: '/trpc/auth.signIn', body: { email, password: PASSWORD } },
        nextAddress(),
      );
    }
  });

  it('auth.signUp, through every tRPC spelling, spends the per IP sign-up budget', async () => {
    let n = 0;
    const input = () => ({ email: `spell-${process.pid}-${++n}@example.com`, password: PASSWORD, name: 'S' });
    for (const spelling of trpcSpellings('auth.signUp')) {
      await spendThroughSpelling(
        spelling,
        'sign-up',
        input,
        { path: '/trpc/auth.signUp', body: input() },
        nextAddress(),
      );
    }
  });

  it('the leak report, through every REST and tRPC spelling, spends the per IP leak-report budget', async () => {
    const input = () => ({ keys: ['cdk_notARealKey'] });
    const canonical = { path: '/api/v1/keys/revoke-leaked', body: input() };
    for (const spelling of [...LEAK_REST_SPELLINGS, ...trpcSpellings('keys.revokeLeaked')]) {
      await spendThroughSpelling(spelling, 'leak-report', input, canonical, nextAddress());
    }
  });

  it('refuses spellings that name no procedure with 404 before any work, charged as anonymous', async () => {
    for (const path of UNKNOWN_SPELLINGS) {
      // Even with a key-shaped credential: an unknown call is refused before any credential lookup.
      const res = await raw(app.url, 'POST', path, {
        headers: { 'x-forwarded-for': nextAddress(), authorization: 'Bearer cdk_notARealKey' },
        body: { email: 'x@example.com', password: PASSWORD },
      });
      expect([path, res.status, chargedPolicies(res)]).toEqual([path, 404, ['anonymous']]);
    }
  });

  it('charges a path that is not valid percent-encoding, and answers it without an HTML page', async () => {
    const paths = ['/trpc/%E0%A4%A', '/trpc/auth.signIn%', '/trpc/x/%ZZ?batch=1', '/api/v1/keys/%E0%A4%A'];
    for (const path of paths) {
      const res = await raw(app.url, 'GET', path, { headers: { 'x-forwarded-for': nextAddress() } });
      expect([path, res.status, chargedPolicies(res)]).toEqual([path, 400, ['anonymous']]);
      expect(res.text).not.toMatch(/<html|URIError|node_modules/i);
    }
  });
});
