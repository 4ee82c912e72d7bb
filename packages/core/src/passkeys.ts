/**
 * Passkeys (WebAuthn): the rules the API applies around the library that checks signatures, as pure functions.
 */

/** A WebAuthn ceremony (registration, sign-in, confirmation) can be answered for this long, once. */
export const PASSKEY_CEREMONY_TTL_MS = 5 * 60 * 1000;

/** How many passkeys one account may register: enough for every device, bounded for the ceremonies' lists. */
export const MAX_PASSKEYS_PER_USER = 20;

export interface RelyingParty {
  /** The RP ID: a domain; passkeys made for it work on it and its subdomains. */
  rpID: string;
  rpName: string;
  /** The origins a ceremony may come from (clientDataJSON's `origin`), lower case, without a trailing slash. */
  origins: string[];
}

const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);

/**
 * Who we are to an authenticator. Explicit configuration wins; otherwise the settings app's address says it: its
 * host is the RP ID and its origin (with the CSRF allowlist's) the accepted origins. Browsers refuse an IP address
 * as an RP ID, so an app reached at a loopback IP is the relying party `localhost` (and `http://localhost:<port>`
 * an accepted origin): the same machine, the one name a browser accepts for it.
 */
export function relyingPartyFor(input: {
  appUrl: string;
  rpName: string;
  rpId?: string | undefined;
  origins?: readonly string[];
  allowedOrigins?: readonly string[];
}): RelyingParty {
  const app = new URL(input.appUrl);
  const loopback = LOOPBACK_IPS.has(app.hostname);
  const local = new URL(app.href);
  local.hostname = 'localhost';
  const origins =
    input.origins && input.origins.length > 0
      ? input.origins
      : [app.origin, ...(loopback ? [local.origin] : []), ...(input.allowedOrigins ?? [])];
  return {
    rpID: input.rpId ?? (loopback ? 'localhost' : app.hostname),
    rpName: input.rpName,
    origins: [...new Set(origins.map((o) => o.replace(/\/$/, '').toLowerCase()))],
  };
}

/**
 * Does an authenticator's signature counter show a genuine next use? It must move forward; authenticators that do
 * not count (synced passkeys) report 0 every time, which is accepted only while the stored counter is 0 too. A
 * counter that stands still or goes back means a cloned authenticator or a replayed assertion.
 */
export function counterAdvances(stored: number, reported: number): boolean {
  return reported > stored || (reported === 0 && stored === 0);
}
