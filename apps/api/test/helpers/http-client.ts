import { createTRPCClient, httpLink, TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../src/routers/index.ts';

/** A refusal the password can answer: sudo mode, for an account without a second factor. */
function passwordWouldConfirm(error: unknown): boolean {
  if (!(error instanceof TRPCClientError)) return false;
  const data = error.data as { code?: string; acceptedMethods?: string[] } | undefined;
  return data?.code === 'REAUTHENTICATION_REQUIRED' && data.acceptedMethods?.includes('password') === true;
}

/**
 * A minimal browser stand-in: keeps the session cookie like a browser would and sends same-origin fetch metadata
 * (`Sec-Fetch-Site: same-origin`) unless told otherwise.
 */
export class Browser {
  cookie: string | undefined;
  lastSetCookie: string[] = [];
  headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' };

  /**
   * Sudo mode, as the settings app answers it: a mutation refused with REAUTHENTICATION_REQUIRED is confirmed with
   * `password` through `auth.confirmSudo` and retried once — what a person does in the app's "Confirm it’s you"
   * dialog. Off (`null`, and for every Browser not made by `signUp`) the refusal reaches the test: tests of sudo mode
   * itself turn it off to see the refusals.
   */
  sudoPassword: string | null = null;
  /** How many times this browser confirmed sudo mode on its own (see `sudoPassword`). */
  sudoConfirmations = 0;

  constructor(readonly baseUrl: string) {}

  /** Confirms sudo mode with the password, like the settings app's dialog, and counts it. */
  private readonly sudoLink: TRPCLink<AppRouter> =
    () =>
    ({ op, next }) =>
      observable((observer) => {
        let current = next(op).subscribe({
          next: (value) => observer.next(value),
          complete: () => observer.complete(),
          error: (error) => {
            const password = this.sudoPassword;
            const retry =
              op.type === 'mutation' &&
              op.path !== 'auth.confirmSudo' &&
              password !== null &&
              passwordWouldConfirm(error);
            if (!retry || password === null) {
              observer.error(error);
              return;
            }
            this.plainTrpc.auth.confirmSudo.mutate({ password }).then(
              () => {
                this.sudoConfirmations++;
                current = next(op).subscribe(observer);
              },
              () => observer.error(error),
            );
          },
        });
        return () => current.unsubscribe();
      });

  private get plainTrpc() {
    return createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${this.baseUrl}/trpc`, fetch: this.fetch })],
    });
  }

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
      links: [this.sudoLink, httpLink({ url: `${this.baseUrl}/trpc`, fetch: this.fetch })],
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
  browser.sudoPassword = PASSWORD;
  return { browser, id: user.id, email };
}
