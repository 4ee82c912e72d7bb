import { z } from 'zod';
import { actorOf } from '../context.ts';
import {
  listPasskeys,
  registerPasskey,
  registrationOptions,
  removePasskey,
  renamePasskey,
  signInOptions,
  signInWithPasskey,
  sudoOptions,
} from '../services/passkeys.service.ts';
import { publicProcedure, router, sessionProcedure } from '../trpc.ts';
import { nameSchema, userOut, uuid } from './schemas.ts';

/**
 * Passkeys (WebAuthn), under `auth.passkeys.*`. Every ceremony is two calls: `…Options` opens a single-use ceremony
 * (5 minutes) and returns what the browser hands to the authenticator; the next call answers it with the
 * authenticator's response. The responses are checked by @simplewebauthn/server (challenge, origin, RP ID,
 * signature, counter); the schemas here only bound their shape.
 */

const base64url = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/, 'Must be base64url.');
const ceremonyId = z.string().min(1).max(64).describe('What the options call answered, as `ceremonyId`');
const credentialId = base64url(1400).min(1);
const transports = z.array(z.string().max(32)).max(10);
const attachment = z.enum(['platform', 'cross-platform']);
/** Kept for the record only (verification never reads it): `credProps.rk` says whether the passkey is discoverable. */
const clientExtensionResults = z.object({
  credProps: z.object({ rk: z.boolean().optional() }).optional(),
});

const registrationResponse = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: attachment.optional(),
  clientExtensionResults,
  response: z.object({
    clientDataJSON: base64url(8192),
    attestationObject: base64url(65536),
    authenticatorData: base64url(65536).optional(),
    transports: transports.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(8192).optional(),
  }),
});

/** What `navigator.credentials.get()` answered, as JSON (@simplewebauthn/browser's `startAuthentication`). */
export const authenticationResponse = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: attachment.optional(),
  clientExtensionResults,
  response: z.object({
    clientDataJSON: base64url(8192),
    authenticatorData: base64url(8192),
    signature: base64url(2048),
    userHandle: base64url(128).optional(),
  }),
});

/**
 * An answer to an authentication ceremony: `auth.passkeys.signIn` and SUDO's `auth.confirmSudo({ passkey })` (with
 * `sudoOptions`' ceremony, checked by `verifyPasskeyForUser`).
 */
export const passkeyAssertionInput = z.object({ ceremonyId, response: authenticationResponse });

const descriptor = z.object({
  id: z.string(),
  type: z.string().describe('`public-key`'),
  transports: z.array(z.string()).optional(),
});
const userVerification = z.enum(['required', 'preferred', 'discouraged']);

/** What `navigator.credentials.create()` takes, as JSON (@simplewebauthn/browser's `startRegistration`). */
const creationOptions = z.object({
  rp: z.object({ id: z.string().optional(), name: z.string() }),
  user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
  challenge: z.string(),
  pubKeyCredParams: z.array(z.object({ type: z.literal('public-key'), alg: z.number() })),
  timeout: z.number().optional(),
  excludeCredentials: z.array(descriptor).optional(),
  authenticatorSelection: z
    .object({
      authenticatorAttachment: attachment.optional(),
      residentKey: z.enum(['discouraged', 'preferred', 'required']).optional(),
      requireResidentKey: z.boolean().optional(),
      userVerification: userVerification.optional(),
    })
    .optional(),
  hints: z.array(z.enum(['hybrid', 'security-key', 'client-device'])).optional(),
  attestation: z.enum(['none', 'indirect', 'direct', 'enterprise']).optional(),
  extensions: z.object({ credProps: z.boolean().optional() }).optional(),
});

/** What `navigator.credentials.get()` takes, as JSON (@simplewebauthn/browser's `startAuthentication`). */
const requestOptions = z.object({
  challenge: z.string(),
  timeout: z.number().optional(),
  rpId: z.string().optional(),
  allowCredentials: z.array(descriptor).optional(),
  userVerification: userVerification.optional(),
  hints: z.array(z.enum(['hybrid', 'security-key', 'client-device'])).optional(),
});

const passkeyOut = z.object({
  id: uuid,
  name: z.string(),
  createdAt: z.string().describe('ISO 8601 date-time'),
  lastUsedAt: z
    .string()
    .nullable()
    .describe('ISO 8601 date-time of the last sign-in or confirmation with it'),
  deviceType: z.string().describe('`singleDevice`, or `multiDevice` for a passkey synced between devices'),
  backedUp: z.boolean(),
});
const passkeyName = nameSchema(100);
/** `auth.signIn`'s challenge token (`<id>.<secret>`); its shape is checked where it is looked up. */
const signInChallengeToken = z.string().min(1).max(200);

export const passkeysRouter = router({
  /** Opens a registration ceremony for this session (5 minutes, single use). */
  registrationOptions: sessionProcedure
    .output(z.object({ ceremonyId: z.string(), options: creationOptions }))
    .mutation(({ ctx }) =>
      registrationOptions(ctx.deps, ctx.em, {
        userId: ctx.user.id,
        sessionId: ctx.session.id,
        verifiedAt: ctx.session.verifiedAt,
        email: ctx.user.email,
        name: ctx.user.name,
      }),
    ),

  /** Stores the passkey the authenticator made for this session's ceremony. Every other session ends. */
  register: sessionProcedure
    .input(z.object({ ceremonyId, name: passkeyName, response: registrationResponse }))
    .output(z.object({ passkey: passkeyOut, endedSessions: z.number().int() }))
    .mutation(({ ctx, input }) =>
      registerPasskey(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        { userId: ctx.user.id, sessionId: ctx.session.id, email: ctx.user.email, name: ctx.user.name },
        {
          ceremonyId: input.ceremonyId,
          name: input.name,
          response: input.response,
        },
      ),
    ),

  list: sessionProcedure.output(z.array(passkeyOut)).query(({ ctx }) => listPasskeys(ctx.em, ctx.user.id)),

  rename: sessionProcedure
    .input(z.object({ id: uuid, name: passkeyName }))
    .output(passkeyOut)
    .mutation(({ ctx, input }) => renamePasskey(ctx.deps, ctx.em, actorOf(ctx), ctx.user.id, input)),

  /**
   * Removes one of your passkeys; every other session ends. Removing your last second factor needs one proven in
   * the last 10 minutes (REAUTHENTICATION_REQUIRED with `acceptedMethods` otherwise).
   */
  remove: sessionProcedure
    .input(z.object({ id: uuid }))
    .output(z.object({ endedSessions: z.number().int() }))
    .mutation(({ ctx, input }) =>
      removePasskey(
        ctx.deps,
        ctx.em,
        actorOf(ctx),
        {
          userId: ctx.user.id,
          sessionId: ctx.session.id,
          verifiedAt: ctx.session.verifiedAt,
          verifiedMethod: ctx.session.verifiedMethod,
        },
        input.id,
      ),
    ),

  /**
   * Opens a sign-in ceremony. Without `challengeToken`: passwordless, any passkey of this site, verified on the
   * device. With the `challengeToken` of `auth.signIn`'s `second-factor-required`: the second step, one of that
   * account's passkeys (SIGN_IN_CHALLENGE_INVALID for a bad, expired or used-up token).
   */
  signInOptions: publicProcedure
    .meta({ rateLimit: 'passkey-sign-in' })
    .input(z.object({ challengeToken: signInChallengeToken.optional() }).optional())
    .output(z.object({ ceremonyId: z.string(), options: requestOptions }))
    .mutation(({ ctx, input }) => signInOptions(ctx.deps, ctx.em, input?.challengeToken)),

  /**
   * Answers a sign-in ceremony and sets the session cookie, like `auth.signIn`. Without `challengeToken` the
   * passkey names the account (passwordless); with it, it is the second factor after the password (each answer
   * spends one of the challenge's five).
   */
  signIn: publicProcedure
    .meta({ rateLimit: 'passkey-sign-in' })
    .input(passkeyAssertionInput.extend({ challengeToken: signInChallengeToken.optional() }))
    .output(z.object({ status: z.literal('signed-in'), user: userOut }))
    .mutation(async ({ ctx, input }) => {
      const previous =
        ctx.auth.kind === 'session' ? { id: ctx.auth.session.id, userId: ctx.auth.user.id } : null;
      const result = await signInWithPasskey(ctx.deps, ctx.em, input, ctx.request, previous);
      ctx.cookies.set(result.token, result.expiresAt);
      return { status: 'signed-in' as const, user: result.user };
    }),

  /** Opens a ceremony to confirm this session's user with a passkey, answered through `auth.confirmSudo`. */
  sudoOptions: sessionProcedure
    .output(z.object({ ceremonyId: z.string(), options: requestOptions }))
    .mutation(({ ctx }) => sudoOptions(ctx.deps, ctx.em, { userId: ctx.user.id, sessionId: ctx.session.id })),
});
