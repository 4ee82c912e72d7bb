/**
 * A software WebAuthn authenticator for API tests: real P-256 keys (node:crypto), real authenticator data,
 * clientDataJSON, a `none` attestation object in CBOR, and ECDSA assertions — what a browser hands the server after
 * talking to a platform authenticator, built byte by byte from the WebAuthn spec (§6.1, §6.5, §5.8.1). Every knob a
 * test needs to play an attacker (another challenge, origin or RP ID, no user verification, an old counter) is an
 * option; nothing here knows what the server expects.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/* ----------------------------------------------------------------------------- a minimal CBOR encoder (RFC 8949) */

type Cbor = number | string | Uint8Array | Map<number | string, Cbor> | { [key: string]: Cbor };

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(length, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/* ------------------------------------------------------------------------------------------- the authenticator */

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

/** Authenticator data flags (WebAuthn §6.1). */
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

export interface StoredCredential {
  id: string;
  privateKey: KeyObject;
  userHandle: string;
  rpId: string;
  counter: number;
  /** A passkey synced between devices (backup eligible and backed up). */
  synced: boolean;
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string };
}

interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

/** What a test may change in one ceremony, to forge what a browser would not send. */
export interface Forgery {
  origin?: string;
  challenge?: string;
  rpId?: string;
  /** The device did not verify its user (no PIN, no biometrics). */
  userVerified?: boolean;
  /** The signature counter to report (default: one more than last time). */
  counter?: number;
  /** Answer with this credential instead of the one the authenticator would pick. */
  credential?: StoredCredential;
  type?: string;
  /** Report this credential id at registration (an attacker choosing someone else's id). */
  credentialId?: Uint8Array;
  userHandle?: string | null;
  /** Register a synced (multi-device, backed-up) passkey. */
  synced?: boolean;
}

export class SoftwareAuthenticator {
  readonly credentials: StoredCredential[] = [];

  /** `origin`: where the "browser" runs; `rpId` defaults to what the options say, as a browser would use. */
  constructor(readonly origin: string) {}

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  }

  private flags(userVerified: boolean, extra = 0): number {
    return UP | (userVerified ? UV : 0) | extra;
  }

  /** `navigator.credentials.create()`: a new P-256 key, attested with format `none`. */
  register(options: CreationOptions, forgery: Forgery = {}) {
    const rpId = forgery.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const coseKey = new Map<number, Cbor>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]);
    const credentialId = forgery.credentialId ?? randomBytes(32);
    const counter = forgery.counter ?? 0;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags(forgery.userVerified ?? true, AT | (forgery.synced ? BE | BS : 0))]),
      count,
      Buffer.alloc(16), // AAGUID: none
      idLength,
      credentialId,
      cbor(coseKey),
    ]);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    const clientDataJSON = this.clientData(
      forgery.type ?? 'webauthn.create',
      forgery.challenge ?? options.challenge,
      forgery.origin ?? this.origin,
    );
    const stored: StoredCredential = {
      id: b64url(credentialId),
      privateKey,
      userHandle: options.user.id,
      rpId,
      counter,
      synced: forgery.synced ?? false,
    };
    this.credentials.push(stored);
    return {
      credential: stored,
      response: {
        id: stored.id,
        rawId: stored.id,
        type: 'public-key' as const,
        clientExtensionResults: {},
        authenticatorAttachment: 'platform' as const,
        response: {
          clientDataJSON: b64url(clientDataJSON),
          attestationObject: b64url(attestationObject),
          transports: ['internal'],
        },
      },
    };
  }

  /**
   * `navigator.credentials.get()`: signs authenticatorData ‖ SHA-256(clientDataJSON) with the credential's key.
   * Picks an allowed credential, or (discoverable) the first one made for the RP ID.
   */
  authenticate(options: RequestOptions, forgery: Forgery = {}) {
    const rpId = forgery.rpId ?? options.rpId ?? new URL(this.origin).hostname;
    const allowed = options.allowCredentials?.map((c) => c.id);
    const credential =
      forgery.credential ??
      this.credentials.find((c) => c.rpId === (options.rpId ?? rpId) && (!allowed || allowed.includes(c.id)));
    if (!credential) throw new Error('the software authenticator holds no credential for these options');
    const counter = forgery.counter ?? credential.counter + 1;
    credential.counter = Math.max(credential.counter, counter);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags(forgery.userVerified ?? true, credential.synced ? BE | BS : 0)]),
      count,
    ]);
    const clientDataJSON = this.clientData(
      forgery.type ?? 'webauthn.get',
      forgery.challenge ?? options.challenge,
      forgery.origin ?? this.origin,
    );
    // ECDSA with SHA-256, DER-encoded, as authenticators return it.
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientDataJSON)]),
      credential.privateKey,
    );
    const userHandle = forgery.userHandle === undefined ? credential.userHandle : forgery.userHandle;
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
    };
  }
}
