import { DomainError, ERROR_CODES, ERROR_TABLE, type ErrorCode, VERIFICATION_METHODS } from '@crowdee/core';
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
    requiredPermission: {
      type: 'string',
      description:
        'The permission the action needs (403 FORBIDDEN): the role falls short, or the key was restricted to other permissions',
    },
    acceptedMethods: {
      type: 'array',
      items: { type: 'string', enum: VERIFICATION_METHODS },
      description:
        'How the signed-in user may confirm who they are (403 REAUTHENTICATION_REQUIRED, sudo mode): the password only when the account has no second factor',
    },
    sudoWindowSeconds: {
      type: 'integer',
      description:
        'How long a confirmation keeps sensitive actions open, in seconds (403 REAUTHENTICATION_REQUIRED)',
    },
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
      'Role too low or permission outside a restricted key’s subset (FORBIDDEN, naming `requiredPermission`), key scoped to other organizations (ORG_OUT_OF_SCOPE), cut off from this one by its admins (KEY_CUT_OFF), used from an address outside its allowlist (IP_NOT_ALLOWED), or needs a session',
    example: 'FORBIDDEN',
  },
  '404': { description: 'Not found — including another organization’s objects', example: 'NOT_FOUND' },
  '409': {
    description:
      'Conflicts with existing data (CONFLICT), or a request with the same Idempotency-Key is still running (IDEMPOTENCY_KEY_IN_USE)',
    example: 'CONFLICT',
  },
  '413': {
    description: 'Request body too large, or too many items or files in one batch',
    example: 'PAYLOAD_TOO_LARGE',
  },
  '422': {
    description:
      'The Idempotency-Key was already used for a different request (IDEMPOTENCY_KEY_REUSED): use a new key',
    example: 'IDEMPOTENCY_KEY_REUSED',
  },
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
  { name: 'datasets', description: 'Datasets of a project: collections of items to verify' },
  {
    name: 'items',
    description:
      'Items of a dataset: text items in JSON batches of up to 1,000, files in multipart uploads of up to 100, each with your own `externalId`',
  },
  { name: 'keys', description: 'The calling key, and reporting leaked keys' },
  { name: 'audit', description: 'An organization’s audit log: filtered, paged and exported (admins)' },
  { name: 'runs', description: 'Verification runs over a dataset: start, poll (ETag, 304), cancel, results' },
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

**Retries.** Every POST accepts an \`Idempotency-Key\` header (1–255 printable ASCII characters): the first
successful (2xx) answer is stored for 24 hours per key (per API key that sent it), and the same request again —
same method, path and byte-identical body — gets it replayed with \`Idempotent-Replayed: true\` instead of running
twice. Another request under the same key answers 422 \`IDEMPOTENCY_KEY_REUSED\`; one sent while the first is still
running answers 409 \`IDEMPOTENCY_KEY_IN_USE\`. Failed requests are not stored: fix and retry with the same key.

**Found a leaked key?** \`POST /api/v1/keys/revoke-leaked\` with \`{"keys": ["cdk_…"]}\` revokes it — no key needed.

**Trying requests on this page.** A key entered under *Authorize* is remembered by this browser (its local storage)
so it survives a reload; choose *Logout* in that dialog to forget it. Use a short-lived, narrowly scoped key here.`;

type Operation = {
  responses?: Record<string, { headers?: Record<string, unknown> } & Record<string, unknown>>;
  security?: unknown[];
  operationId?: string;
  parameters?: unknown[];
  requestBody?: unknown;
};

const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry safe: the same key with the same request within 24 hours replays the first 2xx answer (with `Idempotent-Replayed: true`) instead of running again. 1–255 printable ASCII characters; a UUID is a good choice.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]+$' },
};

const REPLAYED_HEADER = {
  description:
    '`true` when this answer is the stored answer to an earlier request with the same Idempotency-Key',
  schema: { type: 'string' as const, enum: ['true'] },
};

/** The multipart body of `POST …/files` (served by its own route; the procedure's JSON input is tRPC's form). */
const UPLOAD_BODY = {
  required: true,
  description:
    'One part per file, with `filename="…"` in its Content-Disposition (the item name, and the default externalId) and its media type as the part’s Content-Type. Optional text fields `externalId:<n>` (n counts file parts from 0) sent before file part n set its externalId. At most 100 file parts.',
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: {
          'externalId:0': { type: 'string', description: 'externalId of the first file part (optional)' },
          file: {
            type: 'array',
            maxItems: 100,
            items: { type: 'string', contentMediaType: 'application/octet-stream' },
            description: 'The files; any field name is accepted for a file part',
          },
        },
      },
    },
  },
};

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);
const UPLOAD_OPERATION_ID = 'items-upload';

/** Creation procedures answer 201 Created on REST (see the adapter's responseMeta); both read this rule. */
export function isCreation(procedurePath: string): boolean {
  return procedurePath.endsWith('.create');
}

/** Procedures whose REST answer is 202 Accepted: work was queued, not done (a run started). */
export function isAcceptance(procedurePath: string): boolean {
  return procedurePath === 'runs.start';
}

/** What the runs routes answer beyond plain JSON: ETag/304 and Retry-After on a run, NDJSON for the export. */
function describeRunExtras(operationId: string, value: Operation): void {
  const ok = value.responses?.['200'];
  if (operationId === 'runs-get' && ok) {
    ok.headers = {
      ...ok.headers,
      ETag: { description: 'The run’s version; send it back as `If-None-Match`', schema: { type: 'string' } },
      'Retry-After': {
        description: 'While the run is queued or running: seconds to wait before polling again',
        schema: { type: 'integer', minimum: 0 },
      },
    };
    value.parameters = [
      ...(value.parameters ?? []),
      {
        name: 'If-None-Match',
        in: 'header',
        required: false,
        description: 'The ETag of a previous answer: an unchanged run answers 304, free of rate-limit charge',
        schema: { type: 'string' },
      },
    ];
    value.responses = {
      ...value.responses,
      '304': {
        description: 'Not Modified: the run is unchanged since the ETag sent. No rate-limit unit is charged.',
        headers: {
          ETag: { description: 'The run’s current version', schema: { type: 'string' } },
          'Retry-After': { description: 'Seconds to wait before polling again', schema: { type: 'integer' } },
        },
      },
    };
  }
  if (operationId === 'runs-exportResults' && ok) {
    ok.content = {
      'application/x-ndjson': {
        schema: { type: 'string', description: 'One RunResult JSON object per line' },
      },
    };
  }
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
    // Idempotency-Key reuse: only requests with credentials are recorded.
    ...(method === 'post' && needsKey ? ['422'] : []),
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
      const procedure = (value.operationId ?? '').replace(/-/g, '.');
      const created = isCreation(procedure);
      const accepted = isAcceptance(procedure);
      for (const [status, response] of Object.entries(value.responses ?? {})) {
        if (!status.startsWith('2')) continue;
        responses[created && status === '200' ? '201' : accepted && status === '200' ? '202' : status] = {
          ...response,
          headers: RATE_LIMIT_HEADERS,
        };
      }
      const needsKey = value.security !== undefined;
      if (method === 'post') {
        value.parameters = [...(value.parameters ?? []), IDEMPOTENCY_KEY_PARAMETER];
        for (const response of Object.values(responses)) {
          response.headers = { ...response.headers, 'Idempotent-Replayed': REPLAYED_HEADER };
        }
      }
      if (value.operationId === UPLOAD_OPERATION_ID) value.requestBody = UPLOAD_BODY;
      // Public operations say so explicitly: an empty requirement, not an absent one.
      if (!needsKey) value.security = [];
      for (const status of errorStatuses(method, needsKey)) responses[status] = errorResponse(status);
      value.responses = responses;
      describeRunExtras(value.operationId ?? '', value);
    }
  }
  return doc;
}
