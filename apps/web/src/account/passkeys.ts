import { browserSupportsWebAuthn, WebAuthnError } from '@simplewebauthn/browser';
import { TRPCClientError } from '@trpc/client';

/** Whether this browser can make and use passkeys at all (WebAuthn over a secure origin). */
export function passkeysSupported(): boolean {
  return browserSupportsWebAuthn();
}

/**
 * What to tell a person when the browser's passkey prompt, not our API, failed: cancelled, timed out, a passkey
 * that already exists on this device, or no WebAuthn at all. `null` for API errors (ErrorNotice shows those).
 */
export function passkeyPromptProblem(error: unknown): { title: string; message: string } | null {
  if (error === null || error === undefined || error instanceof TRPCClientError) return null;
  // @simplewebauthn/browser wraps the browser's DOMException; its `cause` keeps the original name.
  const cause = error instanceof WebAuthnError && error.cause instanceof Error ? error.cause : error;
  const name = cause instanceof Error ? cause.name : '';
  const code = error instanceof WebAuthnError ? error.code : '';
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError')
    return {
      title: 'This device already has a passkey here',
      message:
        'A passkey on this device is already registered to your account: use another device or security key.',
    };
  if (name === 'NotAllowedError' || name === 'AbortError' || code === 'ERROR_CEREMONY_ABORTED')
    return {
      title: 'No passkey was used',
      message: 'The passkey prompt was cancelled or timed out. Try again when you are ready.',
    };
  if (!passkeysSupported())
    return { title: 'Passkeys are not available here', message: 'This browser cannot use passkeys.' };
  return {
    title: 'The passkey did not work',
    message: error instanceof Error && error.message ? error.message : 'Try again.',
  };
}
