import { PERMISSION_NAMES } from '@crowdee/core';
import { describe, expect, it } from 'vitest';
import type { Meta } from '../src/procedure-meta.ts';
import { appRouter } from '../src/routers/index.ts';

interface ProcedureDef {
  _def: { meta?: Meta; type: string };
}

// At run time `_def.procedures` is the flat map of every procedure by its dotted path.
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, ProcedureDef>);
const ACCESS = new Set([
  'public',
  'session',
  'key',
  'session-token',
  'authenticated',
  ...PERMISSION_NAMES.map((p) => `org:${p}`),
]);

describe('deny by default', () => {
  it('every procedure declares what it needs (built from one of the procedure kinds)', () => {
    expect(procedures.length).toBeGreaterThan(20);
    const undeclared = procedures
      .filter(([, p]) => !ACCESS.has(p._def.meta?.access ?? ''))
      .map(([path]) => path);
    expect(undeclared).toEqual([]);
  });

  it('only the intended procedures are public', () => {
    const open = procedures
      .filter(([, p]) => p._def.meta?.access === 'public')
      .map(([path]) => path)
      .sort();
    expect(open).toEqual([
      'auth.completeSignIn',
      'auth.passkeys.signIn',
      'auth.passkeys.signInOptions',
      'auth.requestPasswordReset',
      'auth.resetPassword',
      'auth.session',
      'auth.signIn',
      'auth.signUp',
      'auth.verifyEmail',
      'keys.revokeLeaked',
      'meta.status',
    ]);
  });

  it('every public mutation declares a budget of its own, so no credential lifts it off that budget', () => {
    const tiers = Object.fromEntries(
      procedures
        .filter(([, p]) => p._def.meta?.access === 'public' && p._def.type === 'mutation')
        .map(([path, p]) => [path, p._def.meta?.rateLimit ?? 'none']),
    );
    expect(tiers).toEqual({
      'auth.completeSignIn': 'second-factor',
      'auth.passkeys.signIn': 'passkey-sign-in',
      'auth.passkeys.signInOptions': 'passkey-sign-in',
      'auth.requestPasswordReset': 'password-reset',
      'auth.resetPassword': 'mailed-link',
      'auth.signIn': 'sign-in',
      'auth.signUp': 'sign-up',
      'auth.verifyEmail': 'mailed-link',
      'keys.revokeLeaked': 'leak-report',
    });
  });

  it('the mail-sending, password-checking and code-checking session procedures declare their own budgets', () => {
    const tiers = Object.fromEntries(
      procedures
        .filter(([, p]) => p._def.meta?.rateLimit !== undefined && p._def.meta?.access !== 'public')
        .map(([path, p]) => [path, p._def.meta?.rateLimit]),
    );
    expect(tiers).toEqual({
      'auth.changeEmail': 'verification-email',
      'auth.changePassword': 'password-change',
      'auth.confirmSudo': 'reauthentication',
      'auth.resendVerification': 'verification-email',
      'auth.totp.confirmEnrolment': 'second-factor',
      'members.invite': 'invitation',
    });
  });

  it('queries never change state: every state-changing procedure is a mutation', () => {
    const stateChanging =
      /\.(create|update|delete|add|remove|revoke|rotate|leave|set|sign|invite|cancel|accept|decline|change|reset|request|resend|verify)/i;
    const queries = procedures
      .filter(([path, p]) => p._def.type === 'query' && stateChanging.test(path))
      .map(([path]) => path);
    expect(queries).toEqual([]);
  });
});
