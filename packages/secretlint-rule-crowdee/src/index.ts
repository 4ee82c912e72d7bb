/**
 * secretlint rule for leaked Crowdee API keys (`cdk_`) and session tokens (`cds_`): prefix + 30 base62 characters +
 * a 6-character base62 CRC-32.
 * It finds keys with the same function as `crowdee scan` (`findKeys` in @crowdee/core), so a candidate is reported
 * only when its checksum holds — a random look-alike is not. Messages carry the key's hint, never the key.
 *
 * .secretlintrc.json: { "rules": [{ "id": "@crowdee/secretlint-rule-crowdee" }] }
 */
import { findKeys, keyHint } from '@crowdee/core';
import type { SecretLintRuleCreator, SecretLintSourceCode } from '@secretlint/types';

export const messages = {
  CROWDEE_API_KEY: {
    en: (props?: { HINT?: string }) =>
      `found a Crowdee API key (${props?.HINT ?? 'cdk_…'}, checksum valid): revoke it — POST /api/v1/keys/revoke-leaked, or crowdee scan --report`,
  },
  CROWDEE_SESSION_TOKEN: {
    en: (props?: { HINT?: string }) =>
      `found a Crowdee session token (${props?.HINT ?? 'cds_…'}, checksum valid): it acts for its user until it expires — end it with POST /api/v1/keys/revoke-leaked, or crowdee scan --report`,
  },
};

export const creator: SecretLintRuleCreator = {
  messages,
  meta: {
    id: '@crowdee/secretlint-rule-crowdee',
    type: 'scanner',
    recommended: true,
    supportedContentTypes: ['text'],
  },
  create(context) {
    const t = context.createTranslator(messages);
    return {
      file(source: SecretLintSourceCode) {
        for (const found of findKeys(source.content)) {
          context.report({
            message: t(found.kind === 'key' ? 'CROWDEE_API_KEY' : 'CROWDEE_SESSION_TOKEN', {
              HINT: keyHint(found.key),
            }),
            range: [found.index, found.index + found.key.length],
          });
        }
      },
    };
  },
};
