import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

// `Algorithm` is an ambient const enum, which isolated modules cannot read: 2 is its `Argon2id` member.
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id with OWASP's recommended minimum (19 MiB, 2 iterations, 1 lane). Tests may pass cheaper parameters;
 * production code uses the defaults.
 */
export interface PasswordHasherOptions {
  memoryCost: number;
  timeCost: number;
}

export const OWASP_ARGON2ID: PasswordHasherOptions = { memoryCost: 19_456, timeCost: 2 };

export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly options: PasswordHasherOptions = OWASP_ARGON2ID) {}

  hash(password: string): Promise<string> {
    return hash(password, {
      algorithm: ARGON2ID,
      memoryCost: this.options.memoryCost,
      timeCost: this.options.timeCost,
      parallelism: 1,
    });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /**
   * Burns the same time as a real verification, for sign-ins with an unknown email: "no such user" and "wrong
   * password" must not be told apart by the clock.
   */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash(randomBytes(16).toString('hex'));
    await this.verify(await this.dummy, password);
    return false;
  }
}
