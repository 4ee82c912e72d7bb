import type { Permission, ProcedureRateTier } from '@crowdee/core';
import type { OpenApiMeta } from 'trpc-to-openapi';

/**
 * Every procedure declares what it needs. The procedure kinds below set `access`; a procedure built any other way
 * has none, and the router test fails (deny by default).
 */
export type Access = 'public' | 'session' | 'key' | 'session-token' | 'authenticated' | `org:${Permission}`;
export interface Meta extends OpenApiMeta {
  access?: Access;
  /**
   * A budget of the procedure's own (sign-in, sign-up, leak report), paid on every call together with the anonymous
   * per-IP budget, whatever credentials come with it. Without it a call costs the caller's budget.
   */
  rateLimit?: ProcedureRateTier;
  /**
   * Sudo mode: a sensitive action (minting or widening a key, granting access to people, changing the org's key
   * policy, deleting an org). Only a signed-in session whose last proof of identity lies within the sudo window may
   * call it; the procedure kinds enforce this in one place, for both transports.
   */
  sudo?: boolean;
}
