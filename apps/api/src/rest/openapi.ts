import { ERROR_TABLE } from '@crowdee/core';
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { PROBLEM_CONTENT_TYPE } from '../errors.ts';
import type { AppRouter } from '../routers/index.ts';

export const API_VERSION = '1.0.0';

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable, machine-readable `code`.',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string', description: 'A URI identifying the problem type' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(ERROR_TABLE) },
    detail: { type: 'string', description: 'A human-readable explanation' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'Field errors (400 VALIDATION_FAILED)',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
    retryAfter: { type: 'integer', description: 'Seconds to wait (429 RATE_LIMITED)' },
    'violated-policies': { type: 'array', items: { type: 'string' } },
    requiredRole: { type: 'string', description: 'The role the action needs (403 FORBIDDEN)' },
  },
} as const;

const rateLimitHeaders = {
  'RateLimit-Policy': {
    description: 'Quota and window of the policy that applies, e.g. `"key";q=1200;w=60`',
    schema: { type: 'string' as const },
  },
  RateLimit: {
    description: 'Remaining units and seconds until reset, e.g. `"key";r=1187;t=42`',
    schema: { type: 'string' as const },
  },
};

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Invalid input (VALIDATION_FAILED, with field errors) or unreadable body (BAD_REQUEST)',
  '401': 'Missing, malformed or unknown key (UNAUTHENTICATED), KEY_REVOKED or KEY_EXPIRED',
  '403':
    'Role too low (FORBIDDEN), key scoped to other organizations (ORG_OUT_OF_SCOPE) or cut off from this one by its admins (KEY_CUT_OFF), or needs a session',
  '404': 'Not found — including another organization’s objects',
  '409': 'Conflicts with existing data',
  '413': 'Request body too large',
  '415': 'Request body is not application/json, or has a Content-Encoding (bodies are sent uncompressed)',
  '429': 'Rate limited (RATE_LIMITED): wait `Retry-After` seconds',
  '503': 'Temporarily unavailable',
};

const DESCRIPTION = `Crowdee's REST API for scripts, CI pipelines and backends. New here? Start with the
[getting-started guide](/docs/getting-started): credentials, a first call, keeping keys safe and rate limits, with
worked examples in curl, TypeScript and the CLI.

**Authentication.** Send an API key in a header: \`Authorization: Bearer cdk_…\`. Create keys in the settings app
(Settings → API Keys). A key acts with min(its role, its creator's current role) in each organization it may reach,
and org-scoped keys are refused elsewhere with \`ORG_OUT_OF_SCOPE\`. Never put a key in a URL.

**Errors** are \`application/problem+json\` with a stable \`code\`; see [the error codes](/docs/errors).

**Rate limits.** Every response carries \`RateLimit-Policy\` and \`RateLimit\`
([draft-ietf-httpapi-ratelimit-headers](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/));
a refused request gets 429 with \`Retry-After\`.

**Found a leaked key?** \`POST /api/v1/keys/revoke-leaked\` with \`{"keys": ["cdk_…"]}\` revokes it — no key needed.

**Trying requests on this page.** A key entered under *Authorize* is remembered by this browser (its local storage)
so it survives a reload; choose *Logout* in that dialog to forget it. Use a short-lived, narrowly scoped key here.`;

type Operation = { responses?: Record<string, unknown>; security?: unknown[]; operationId?: string };

/** Creation procedures answer 201 Created on REST (see the adapter's responseMeta); both read this rule. */
export function isCreation(procedurePath: string): boolean {
  return procedurePath.endsWith('.create');
}

/** The OpenAPI 3.1 document, generated from the procedures, with our problem+json errors and rate-limit headers. */
export function buildOpenApiDocument(router: AppRouter): OpenAPIObject {
  const doc = generateOpenApiDocument(router, {
    title: 'Crowdee API',
    description: DESCRIPTION,
    version: API_VERSION,
    baseUrl: '/api/v1',
    docsUrl: '/docs',
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key: `cdk_` followed by 36 characters',
      },
    },
  });
  doc.components = {
    ...doc.components,
    schemas: { ...doc.components?.schemas, Problem: problemSchema as never },
    headers: { ...doc.components?.headers, ...rateLimitHeaders },
  };
  for (const item of Object.values(doc.paths ?? {})) {
    for (const [method, value] of Object.entries(item as Record<string, Operation>)) {
      if (!value || typeof value !== 'object' || !('responses' in value)) continue;
      const responses: Record<string, unknown> = {};
      const created = isCreation((value.operationId ?? '').replace(/-/g, '.'));
      for (const [status, response] of Object.entries(value.responses ?? {})) {
        if (status.startsWith('2')) {
          responses[created && status === '200' ? '201' : status] = {
            ...(response as object),
            headers: {
              'RateLimit-Policy': { $ref: '#/components/headers/RateLimit-Policy' },
              RateLimit: { $ref: '#/components/headers/RateLimit' },
            },
          };
        }
      }
      const withBody = method === 'post' || method === 'patch' || method === 'put';
      const codes = [
        '400',
        ...(value.security ? ['401', '403'] : []),
        '404',
        ...(withBody ? ['409', '413', '415'] : []),
        '429',
        '503',
      ];
      for (const code of codes) {
        responses[code] = {
          description: ERROR_RESPONSES[code] ?? 'Error',
          content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
        };
      }
      value.responses = responses;
    }
  }
  return doc;
}
