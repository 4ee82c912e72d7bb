/**
 * The REST API's request and response shapes, written out instead of inferred from the API's router so the
 * published declarations stand alone (the router's types live in the API's sources). `test/rest-types.test.ts`
 * checks at compile time that each one equals what the router really answers, so they cannot drift.
 */

export type Role = 'viewer' | 'member' | 'admin' | 'owner';
export type KeyRole = 'viewer' | 'member' | 'admin';

export interface Me {
  key: {
    id: string;
    name: string;
    hint: string;
    role: KeyRole;
    /** Organization ids the key is limited to; null for all of its creator's. */
    scope: string[] | null;
    expiresAt: string | null;
  };
  creator: { id: string; name: string; email: string };
  organizations: { id: string; name: string; creatorRole: Role; effectiveRole: KeyRole }[];
}

export interface ApiStatus {
  status: 'ok';
  version: string;
  time: string;
}

export interface Project {
  id: string;
  orgId: string;
  name: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectPage {
  items: Project[];
  total: number;
}

export interface NewProject {
  name: string;
  description?: string | null | undefined;
}

export interface ProjectPatch {
  name?: string | undefined;
  description?: string | null | undefined;
}
