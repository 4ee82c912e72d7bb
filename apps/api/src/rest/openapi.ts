import { DomainError, ERROR_CODES, ERROR_TABLE, type ErrorCode } from '@crowdee/core';
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { API_VERSION } from '../api-version.ts';
import { PROBLEM_CONTENT_TYPE, problemDetails } from '../errors.ts';
import type { AppRouter } from '../routers/index.ts';

/** The origin the dumped document names when no request tells us ours (the README's `pnpm start`). */
export const DEFAULT_PUBLIC_ORIGIN = 'http://localhost:3000';

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable, machine-readable `code`.',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: {
      type: 'string',
      format: 'uri-reference',
      description: 'The problem type: the row of this code on the error-code page, `/docs/errors#CODE`',
    },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', enum: ERROR_CODES },
    detail: { type: 'string', description: 'A human-readable explanation' },
    instance: { type: 'string', description: 'The path of the request that failed' },
    errors: {
      type: 'array',
      description: 'Field errors (400 VALIDATION_FAILED)',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    retryAfter: { type: 'integer', description: 'Seconds to wait (429 RATE_LIMITED)' },
    'violated-policies': { type: 'array', items: { type: 'string' } },
    requiredRole: { type: 'string', description: 'The role the action needs (403 FORBIDDEN)' },
  },
} as const;

const HEADERS = {
  'RateLimit-Policy': {
    description:
      'Quota and window of each policy that applies, e.g. `"key";q=1200;w=60` (draft-ietf-httpapi-ratelimit-headers)',
    schema: { type: 'string' as const },
  },
  RateLimit: {
    description: 'Remaining units and seconds until reset for each policy, e.g. `"key";r=1187;t=42`',
    schema: { type: 'string' as const },
  },
  'Retry-After': {
    description: 'Whole seconds to wait before retrying; never earlier than the exhausted window resets',
    required: true,
    schema: { type: 'integer' as const, minimum: 0 },
  },
  'WWW-Authenticate': {
    description:
      'The Bearer challenge (RFC 6750): `Bearer realm="crowdee"`, with `error="invalid_token"` when a key was sent and refused',
    required: true,
    schema: { type: 'string' as const },
  },
};

const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });
const RATE_LIMIT_HEADERS = { 'RateLimit-Policy': ref('RateLimit-Policy'), RateLimit: ref('RateLimit') };

/** Each error status: what it means here, and the code its example shows. */
const ERROR_RESPONSES: Record<string, { description: string; example: ErrorCode }> = {
  '400': {
    description: 'Invalid input (VALIDATION_FAILED, with field errors) or unreadable body (BAD_REQUEST)',
    example: 'VALIDATION_FAILED',
  },
  '401': {
    description: 'Missing, malformed or unknown key (UNAUTHENTICATED), KEY_REVOKED or KEY_EXPIRED',
    example: 'UNAUTHENTICATED',
  },
  '403': {
    description:
      'Role too low (FORBIDDEN), key scoped to other organizations (ORG_OUT_OF_SCOPE) or cut off from this one by its admins (KEY_CUT_OFF), or needs a session',
    example: 'FORBIDDEN',
  },
  '404': { description: 'Not found — including another organization’s objects', example: 'NOT_FOUND' },
  '409': { description: 'Conflicts with existing data', example: 'CONFLICT' },
  '413': { description: 'Request body too large', example: 'PAYLOAD_TOO_LARGE' },
  '415': {
    description:
      'Request body is not application/json, or has a Content-Encoding (bodies are sent uncompressed)',
    example: 'UNSUPPORTED_MEDIA_TYPE',
  },
  '429': { description: 'Rate limited (RATE_LIMITED): wait `Retry-After` seconds', example: 'RATE_LIMITED' },
  '503': { description: 'Temporarily unavailable', example: 'SERVICE_UNAVAILABLE' },
};

/** An example problem, rendered by the same function that renders real ones, so it cannot drift from them. */
function exampleProblem(code: ErrorCode): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  if (code === 'VALIDATION_FAILED') details.fieldErrors = [{ path: 'name', message: 'Required.' }];
  if (code === 'RATE_LIMITED') {
    details.retryAfter = 42;
    details.violatedPolicies = ['key'];
  }
  if (code === 'FORBIDDEN') details.requiredRole = 'admin';
  const message = code === 'RATE_LIMITED' ? 'Rate limit exceeded (key). Retry in 42 s.' : undefined;
  return problemDetails(new DomainError(code, message, details), '/api/v1/orgs/…/projects');
}

const TAGS = [
  { name: 'meta', description: 'Status of the API itself' },
  { name: 'projects', description: 'An organization’s projects' },
  { name: 'keys', description: 'The calling key, and reporting leaked keys' },
];

const DESCRIPTION = `Crowdee's REST API for scripts, CI pipelines and backends. New here? Start with the
[getting-started guide](/docs/getting-started): credentials, a first call, keeping keys safe and rate limits, with
worked examples in curl, TypeScript and the CLI.

**Authentication.** Send an API key in a header: \`Authorization: Bearer cdk_…\`. Create keys in the settings app
(Settings → API Keys). A key acts with min(its role, its creator's current role) in each organization it may reach,
and org-scoped keys are refused elsewhere with \`ORG_OUT_OF_SCOPE\`. Never put a key in a URL. A refused key gets
401 with \`WWW-Authenticate: Bearer realm="crowdee", error="invalid_token"\`.

**Errors** are \`application/problem+json\` with a stable \`code\`; their \`type\` links to the code's row on
[the error-code page](/docs/errors). A known path called with another method answers 405 with \`Allow\`.

**Rate limits.** Every response carries \`RateLimit-Policy\` and \`RateLimit\`
([draft-ietf-httpapi-ratelimit-headers](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/));
a refused request gets 429 with \`Retry-After\`.

**Found a leaked key?** \`POST /api/v1/keys/revoke-leaked\` with \`{"keys": ["cdk_…"]}\` revokes it — no key needed.

**Trying requests on this page.** A key entered under *Authorize* is remembered by this browser (its local storage)
so it survives a reload; choose *Logout* in that dialog to forget it. Use a short-lived, narrowly scoped key here.`;

type Operation = {
  responses?: Record<string, { headers?: Record<string, unknown> } & Record<string, unknown>>;
  security?: unknown[];
  operationId?: string;
};

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** Creation procedures answer 201 Created on REST (see the adapter's responseMeta); both read this rule. */
export function isCreation(procedurePath: string): boolean {
  return procedurePath.endsWith('.create');
}

/** The error statuses an operation can answer, by whether it needs a key and whether it takes a body. */
function errorStatuses(method: string, needsKey: boolean): string[] {
  const withBody = method === 'post' || method === 'patch' || method === 'put';
  // A body sent with any method but GET is checked (JSON, size) before the operation runs, even on a DELETE.
  const bodyChecked = method !== 'get';
  return [
    '400',
    // Public operations still refuse credentials that were sent and are not valid.
    '401',
    ...(needsKey ? ['403'] : []),
    '404',
    ...(withBody ? ['409'] : []),
    ...(bodyChecked ? ['413', '415'] : []),
    '429',
    '503',
  ];
}

function errorResponse(status: string): Record<string, unknown> {
  const spec = ERROR_RESPONSES[status];
  if (!spec) throw new Error(`No error response declared for ${status}`);
  const codes = ERROR_CODES.filter((code) => String(ERROR_TABLE[code].status) === status);
  return {
    description: spec.description,
    headers: {
      ...RATE_LIMIT_HEADERS,
      ...(status === '429' ? { 'Retry-After': ref('Retry-After') } : {}),
      ...(status === '401' ? { 'WWW-Authenticate': ref('WWW-Authenticate') } : {}),
    },
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        // The shared Problem, narrowed to this status and the codes that carry it.
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Problem' },
            {
              type: 'object',
              properties: { status: { const: Number(status) }, code: { enum: codes } },
            },
          ],
        },
        example: exampleProblem(spec.example),
      },
    },
  };
}

/**
 * The OpenAPI 3.1 document, generated from the procedures, with our problem+json errors and rate-limit headers.
 * `origin` makes `externalDocs` an absolute URI, as OpenAPI requires; the served document uses the request's.
 */
export function buildOpenApiDocument(
  router: AppRouter,
  origin: string = DEFAULT_PUBLIC_ORIGIN,
): OpenAPIObject {
  const doc = generateOpenApiDocument(router, {
    title: 'Crowdee API',
    description: DESCRIPTION,
    version: API_VERSION,
    contact: { name: 'Crowdee API reference', url: `${origin}/docs` },
    baseUrl: '/api/v1',
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key: `cdk_` followed by 36 characters',
      },
    },
  });
  doc.tags = TAGS;
  doc.externalDocs = { description: 'Interactive reference and error codes', url: `${origin}/docs` };
  // trpc-to-openapi registers tRPC-shaped error schemas (`error.BAD_REQUEST`, …); our errors are problems instead.
  const schemas = Object.fromEntries(
    Object.entries(doc.components?.schemas ?? {}).filter(([name]) => !name.startsWith('error.')),
  );
  doc.components = {
    ...doc.components,
    schemas: { ...schemas, Problem: problemSchema as never },
    headers: { ...doc.components?.headers, ...HEADERS },
  };
  for (const item of Object.values(doc.paths ?? {})) {
    for (const [method, value] of Object.entries(item as Record<string, Operation>)) {
      if (!METHODS.has(method) || !value || typeof value !== 'object') continue;
      const responses: NonNullable<Operation['responses']> = {};
      const created = isCreation((value.operationId ?? '').replace(/-/g, '.'));
      for (const [status, response] of Object.entries(value.responses ?? {})) {
        if (!status.startsWith('2')) continue;
        responses[created && status === '200' ? '201' : status] = {
          ...response,
          headers: RATE_LIMIT_HEADERS,
        };
      }
      const needsKey = value.security !== undefined;
      // Public operations say so explicitly: an empty requirement, not an absent one.
      if (!needsKey) value.security = [];
      for (const status of errorStatuses(method, needsKey)) responses[status] = errorResponse(status);
      value.responses = responses;
    }
  }
  return doc;
}
