import { useSession } from '../app/session.tsx';
import { listSentence } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';

/**
 * An organization that requires two-factor sign-in stops a member without a second factor (and their keys) until
 * they enrol: say which organizations, and where to enrol.
 */
export function TwoFactorPolicyBanner() {
  const { organizations } = useSession();
  const blocked = organizations.filter((o) => o.blockedByTwoFactorPolicy);
  if (blocked.length === 0) return null;
  const names = listSentence(blocked.map((o) => o.name));
  return (
    <section className="banner banner-warning" aria-label="Two-factor sign-in required">
      <p className="banner-text">
        <strong>
          {names} {blocked.length === 1 ? 'requires' : 'require'} two-factor sign-in.
        </strong>{' '}
        Set it up under <Link to="/settings/security">Settings → Security</Link>. Until you do, you can’t act
        in {blocked.length === 1 ? 'it' : 'them'}, and your API keys are refused there.
      </p>
    </section>
  );
}
