// A script or backend with an API key: CROWDEE_API_KEY and CROWDEE_API_URL come from the environment.
import { createClient } from '@crowdee/client';

const crowdee = createClient();
try {
  // REST, as any HTTP client would call it…
  const me = await crowdee.rest.me();
  console.log(`key ${me.key.hint} (${me.key.role}) created by ${me.creator.name}`);
  // …and the same procedures through the typed tRPC client.
  for (const org of await crowdee.trpc.orgs.list.query()) {
    const page = await crowdee.trpc.projects.list.query({ orgId: org.id });
    console.log(`${org.name}: ${page.total} project(s)`);
  }
} finally {
  await crowdee.close();
}
