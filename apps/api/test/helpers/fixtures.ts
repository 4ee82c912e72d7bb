import type { Role } from '@crowdee/core';
import { type Browser, signUp } from './http-client.ts';

export interface Person {
  browser: Browser;
  id: string;
  email: string;
}

/** A founder's organization, with `members` added at the given roles (through the API, as a user would). */
export async function orgWith(
  founder: Person,
  name: string,
  members: { person: Person; role: Role }[] = [],
): Promise<{ id: string }> {
  const org = await founder.browser.trpc.orgs.create.mutate({ name });
  for (const { person, role } of members) {
    await founder.browser.trpc.members.add.mutate({ orgId: org.id, email: person.email, role });
  }
  return { id: org.id };
}

export async function people(baseUrl: string, names: string[]): Promise<Record<string, Person>> {
  const out: Record<string, Person> = {};
  for (const name of names) out[name] = await signUp(baseUrl, name);
  return out;
}

/** Creates a key as `person` with `orgId` active (the key's role is checked against the role there). */
export async function keyFor(
  person: Person,
  orgId: string,
  input: {
    name?: string;
    role: 'viewer' | 'member' | 'admin';
    orgIds?: string[];
    expiresInDays?: number;
    expiresAt?: string;
  },
): Promise<{ key: string; id: string }> {
  await person.browser.trpc.orgs.setActive.mutate({ orgId });
  const created = await person.browser.trpc.keys.create.mutate({ name: input.name ?? 'test key', ...input });
  return { key: created.key, id: created.apiKey.id };
}
