import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../src/routers/index.ts';

/**
 * A minimal browser stand-in: keeps the session cookie like a browser would and sends same-origin fetch metadata
 * (`Sec-Fetch-Site: same-origin`) unless told otherwise.
 */
export class Browser {
  cookie: string | undefined;
  lastSetCookie: string[] = [];
  headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' };

  constructor(readonly baseUrl: string) {}

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(this.headers)) headers.set(k, v);
    if (this.cookie) headers.set('cookie', this.cookie);
    const response = await fetch(input, { ...init, headers });
    const setCookie = response.headers.getSetCookie();
    if (setCookie.length > 0) {
      this.lastSetCookie = setCookie;
      for (const line of setCookie) {
        const [pair = ''] = line.split(';');
        const value = pair.slice(pair.indexOf('=') + 1);
        const expired = /expires=Thu, 01 Jan 1970/i.test(line) || value === '';
        this.cookie = expired ? undefined : pair;
      }
    }
    return response;
  };

  /** The typed tRPC client the settings app and internal services use, over real HTTP. */
  get trpc() {
    return createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${this.baseUrl}/trpc`, fetch: this.fetch })],
    });
  }
}

export function keyClient(baseUrl: string, key: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${baseUrl}/trpc`, headers: { authorization: `Bearer ${key}` } })],
  });
}

/** The stable code of a tRPC error (our domain code), or the thrown value when it is not a tRPC error. */
export async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) {
      const data = error.data as { code?: string } | undefined;
      return data?.code ?? 'UNKNOWN';
    }
    throw error;
  }
  return 'OK';
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}@example.com`;
}

export const PASSWORD = 'correct horse battery staple';

export async function signUp(
  baseUrl: string,
  name = 'Test User',
): Promise<{ browser: Browser; id: string; email: string }> {
  const browser = new Browser(baseUrl);
  const email = uniqueEmail(name.toLowerCase().replace(/\W+/g, '-'));
  const { user } = await browser.trpc.auth.signUp.mutate({ email, password: PASSWORD, name });
  return { browser, id: user.id, email };
}
