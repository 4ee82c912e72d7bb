// An internal service acting for the user behind a browser session: it holds a session token, not a key.
// getToken is asked for a token before the first call and again whenever the API says the token expired.
import { createClient } from '@crowdee/client';

const crowdee = createClient({
  baseUrl: process.env.CROWDEE_API_URL,
  getToken: async () => {
    // In a real service: ask the user's browser session for a fresh token (auth.createSessionToken).
    const token = process.env.CROWDEE_SESSION_TOKEN;
    if (!token) throw new Error('no session token');
    return token;
  },
});
try {
  for (const org of await crowdee.trpc.orgs.list.query()) console.log(`${org.name}: ${org.role}`);
} finally {
  await crowdee.close();
}
