import type { AppRouter } from '@crowdee/api';
import { VERIFICATION_METHODS, type VerificationMethod } from '@crowdee/core/two-factor';
import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';

/** What the "Confirm it’s you" dialog needs: how this account may confirm (REAUTHENTICATION_REQUIRED's details). */
export interface SudoRequest {
  acceptedMethods: VerificationMethod[];
}

const isMethod = (value: unknown): value is VerificationMethod =>
  VERIFICATION_METHODS.includes(value as VerificationMethod);

/** The sudo request a failed call carries, or null when it failed for another reason. */
export function sudoRequestOf(error: unknown): SudoRequest | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data = error.data as { code?: unknown; acceptedMethods?: unknown } | undefined;
  if (data?.code !== 'REAUTHENTICATION_REQUIRED') return null;
  const methods = Array.isArray(data.acceptedMethods) ? data.acceptedMethods.filter(isMethod) : [];
  // An answer without the list still asks; the password is what an account without a second factor uses.
  return { acceptedMethods: methods.length > 0 ? methods : ['password'] };
}

type Listener = () => void;

/**
 * Between the API client and the dialog: a refused mutation asks here and waits; the dialog (SudoDialogHost) shows
 * the open request and settles it — confirmed or cancelled. Mutations refused while a request is open wait for the
 * same answer: one confirmation serves them all.
 */
export class SudoGate {
  private open: { request: SudoRequest; settled: Promise<boolean>; settle: (ok: boolean) => void } | null =
    null;
  private readonly listeners = new Set<Listener>();

  /** Resolves true once the user confirmed who they are, false when they cancelled. */
  ask(request: SudoRequest): Promise<boolean> {
    if (this.open) return this.open.settled;
    let settle: (ok: boolean) => void = () => {};
    const settled = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    this.open = { request, settled, settle };
    this.emit();
    return settled;
  }

  settle(confirmed: boolean): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    this.emit();
    open.settle(confirmed);
  }

  readonly current = (): SudoRequest | null => this.open?.request ?? null;

  readonly subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/**
 * Sudo mode in one place for every mutation of the app: one refused with REAUTHENTICATION_REQUIRED opens the
 * dialog, and once the user confirms, it is sent again, once. Cancelling (or a second refusal) hands the original
 * error to the mutation, whose form stays as it was. The confirmation itself passes straight through.
 */
export function sudoLink(gate: SudoGate): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let current = next(op).subscribe({
          next: (value) => observer.next(value),
          complete: () => observer.complete(),
          error: (error) => {
            const request =
              op.type === 'mutation' && op.path !== 'auth.confirmSudo' ? sudoRequestOf(error) : null;
            if (!request) {
              observer.error(error);
              return;
            }
            void gate.ask(request).then((confirmed) => {
              if (confirmed) current = next(op).subscribe(observer);
              else observer.error(error);
            });
          },
        });
        return () => current.unsubscribe();
      });
}
