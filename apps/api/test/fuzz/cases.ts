/**
 * Whole requests, generated from the OpenAPI document (REST) and every tRPC procedure's input schema, with odd
 * spellings, methods, headers, encodings and credentials. A case is plain JSON with placeholders for ids and
 * credentials, so a failing one can be saved to `test/fuzz-regressions/` and replayed against a fresh fixture.
 */
import fc from 'fast-check';
import type { OpenAPIObject } from 'trpc-to-openapi';
import { z } from 'zod';
import { appRouter } from '../../src/routers/index.ts';
import {
  fuzzValue,
  hostileString,
  type Json,
  type JsonSchema,
  RawJson,
  type SchemaContext,
  toJsonText,
  validValue,
} from './values.ts';

export type Credential = 'none' | 'key' | 'session' | 'bad-key' | 'key+session' | 'other-key';

export interface FuzzCase {
  /** What was aimed at: `GET /me` or a procedure path, for reports. */
  target: string;
  transport: 'rest' | 'trpc';
  method: string;
  /** The request target, already percent-encoded where meant to be; may hold id placeholders. */
  path: string;
  headers: Record<string, string>;
  credential: Credential;
  /** The body as text (may hold placeholders), or raw bytes that are not UTF-8. */
  body?: { text: string } | { base64: string };
  /** Compress the body text at send time. */
  encoding?: 'gzip';
}

const credential = fc.constantFrom<Credential>(
  'none',
  'key',
  'key',
  'session',
  'session',
  'bad-key',
  'key+session',
  'other-key',
);

/** Percent-encodings a router must survive: invalid UTF-8, encoded separators and NUL, truncated escapes. */
const hostileSegment = fc.constantFrom(
  '%00',
  '%ZZ',
  '%E0%A4%A',
  '%',
  '%ED%A0%80',
  '%C0%AF',
  '%2F',
  '%2e%2e',
  '..',
  'x'.repeat(300),
  '%F0%9F%98%80',
  '00000000-0000-4000-8000-000000000000',
);

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'APPLICATION/JSON',
      'application/json, text/html',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/problem+json',
      '',
    ),
  },
);

/** Headers beyond the ones a case needs: odd accept, forwarded-for spoofing, huge values, latin-1 bytes. */
const extraHeaders = fc.constantFrom<Record<string, string>>(
  {},
  {},
  {},
  { accept: 'text/html' },
  { accept: '*/*;q=0.1, application/xml' },
  { 'x-forwarded-for': '1.2.3.4, 5.6.7.8' },
  { 'x-forwarded-proto': 'https' },
  { origin: 'https://evil.example' },
  { 'sec-fetch-site': 'cross-site' },
  { 'accept-encoding': 'gzip, br' },
  { 'x-huge': 'h'.repeat(8000) },
  { 'x-latin1': '\u00e9\u00ff\u0080' },
  { 'content-language': 'de' },
  { 'trpc-accept': 'application/jsonl' },
);

interface BodyChoice {
  body?: NonNullable<FuzzCase['body']>;
  encoding?: 'gzip';
  /** Says gzip but is not. */
  gzipHeader?: boolean;
}

/** The body: JSON text of `value`, sometimes gzipped, sometimes not UTF-8 at all. */
function bodyOf(value: fc.Arbitrary<Json>): fc.Arbitrary<BodyChoice> {
  return fc.oneof<fc.WeightedArbitrary<BodyChoice>[]>(
    { weight: 8, arbitrary: value.map((v) => ({ body: { text: toJsonText(v) } })) },
    {
      weight: 1,
      arbitrary: value.map((v) => ({ body: { text: toJsonText(v) }, encoding: 'gzip' as const })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<BodyChoice>(
        // Not JSON, not UTF-8, gzip garbage, truncated.
        { body: { base64: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x22]).toString('base64') } },
        {
          body: { base64: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]).toString('base64') },
          gzipHeader: true,
        },
        { body: { text: '{"name":' } },
        { body: { text: '' } },
        { body: { text: 'null' } },
        { body: { text: '"\\ud800"' } },
        { body: { text: '{"name":"\\u0000"}' } },
      ),
    },
  );
}

function withSpelling(path: string) {
  return fc.constantFrom(
    path,
    path,
    path,
    path,
    `${path}/`,
    path.replace(/^\//, '//'),
    path.toUpperCase(),
    path.replace(/e/, '%65'),
    `${path}?x=%ZZ`,
    `${path};jsessionid=1`,
  );
}

/* --------------------------------------------------------------------------------------------------------- REST */

type Operation = {
  parameters?: { in: string; name: string; schema: JsonSchema; required?: boolean }[];
  requestBody?: { content?: Record<string, { schema: JsonSchema }> };
};

function restCase(
  doc: OpenAPIObject,
  template: string,
  method: string,
  operation: Operation,
): fc.Arbitrary<FuzzCase> {
  const ctx: SchemaContext = {
    resolve: (ref) => {
      const name = ref.replace('#/components/schemas/', '');
      return (doc.components?.schemas as Record<string, JsonSchema> | undefined)?.[name];
    },
  };
  const params = operation.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const pathValue = fc.record(
    Object.fromEntries(
      pathParams.map((p) => [
        p.name,
        fc.oneof(
          { weight: 4, arbitrary: validValue(p.schema, ctx, p.name).map(String) },
          { weight: 1, arbitrary: hostileSegment },
          { weight: 1, arbitrary: hostileString.map(encodeURIComponentLoosely) },
        ),
      ]),
    ),
  );
  const queryValue = fc.array(
    fc.tuple(
      fc.constantFrom(...(queryParams.length > 0 ? queryParams.map((p) => p.name) : ['x'])),
      fc.oneof(
        fc.integer({ min: -5, max: 200 }).map(String),
        fc.constantFrom(
          '',
          '-1',
          '1e400',
          'NaN',
          '0x10',
          ' 5',
          '%00',
          '%ZZ',
          '1.5',
          '99999999999999999999',
          'null',
        ),
      ),
    ),
    { maxLength: 3 },
  );
  const schema = operation.requestBody?.content?.['application/json']?.schema;
  const body = schema ? bodyOf(fuzzValue(schema, ctx)) : fc.constant<BodyChoice>({});
  return fc
    .record({
      params: pathValue,
      query: queryValue,
      body,
      credential,
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant(method.toUpperCase()) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
      ),
      contentType,
      extra: extraHeaders,
      spelling: fc.nat(),
    })
    .chain((c) => {
      let path = template;
      for (const [name, value] of Object.entries(c.params)) path = path.replace(`{${name}}`, value);
      const query = c.query.map(([k, v]) => `${k}=${v}`).join('&');
      return withSpelling(`/api/v1${path}`).map((spelled) => {
        const headers: Record<string, string> = { ...c.extra };
        if (c.body.body && c.contentType !== '') headers['content-type'] = c.contentType;
        if (c.body.gzipHeader || c.body.encoding) headers['content-encoding'] = 'gzip';
        return {
          target: `${method.toUpperCase()} ${template}`,
          transport: 'rest' as const,
          method: c.method,
          path: asRequestTarget(query ? `${spelled}${spelled.includes('?') ? '&' : '?'}${query}` : spelled),
          headers,
          credential: c.credential,
          ...(c.body.body ? { body: c.body.body } : {}),
          ...(c.body.encoding ? { encoding: c.body.encoding } : {}),
        };
      });
    });
}

/** What an HTTP client can put on the request line: printable ASCII, everything else percent-encoded. */
function asRequestTarget(path: string): string {
  return path.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponentLoosely(c));
}

function encodeURIComponentLoosely(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // Lone surrogates cannot be encoded as UTF-8: send them as the bytes a broken client would.
    return '%ED%A0%80';
  }
}

/** Every operation in the document, each as an arbitrary of requests aimed at it. */
export function restArbitraries(doc: OpenAPIObject): { target: string; arbitrary: fc.Arbitrary<FuzzCase> }[] {
  const out: { target: string; arbitrary: fc.Arbitrary<FuzzCase> }[] = [];
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item as Record<string, Operation>)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      out.push({
        target: `${method.toUpperCase()} ${template}`,
        arbitrary: restCase(doc, template, method, operation),
      });
    }
  }
  return out;
}

/* --------------------------------------------------------------------------------------------------------- tRPC */

interface ProcedureDef {
  _def: { type: string; inputs: z.ZodType[] };
}

/** Every procedure's input as one JSON Schema (orgProcedure's `{ orgId }` merged with the procedure's own). */
export function procedureInputSchemas(): { path: string; type: string; schema: JsonSchema | null }[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;
  return Object.entries(procedures).map(([path, p]) => {
    const parts = p._def.inputs.map(
      (input) => z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' }) as JsonSchema,
    );
    if (parts.length === 0) return { path, type: p._def.type, schema: null };
    const schema: JsonSchema = {
      type: 'object',
      properties: Object.assign({}, ...parts.map((s) => s.properties ?? {})),
      required: parts.flatMap((s) => s.required ?? []),
    };
    return { path, type: p._def.type, schema };
  });
}

const trpcPathSpelling = (path: string) =>
  fc.constantFrom(
    path,
    path,
    path,
    path,
    `${path},${path}`,
    `${path},meta.status`,
    `${path}/`,
    path.toUpperCase(),
    path.replace('.', '%2E'),
    `${path}%00`,
    `${path},%E0%A4%A`,
    `${path}.nope`,
  );

const deepArray = (depth: number) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);

function trpcCase(path: string, type: string, schema: JsonSchema | null): fc.Arbitrary<FuzzCase> {
  const ctx: SchemaContext = { resolve: () => undefined };
  const input: fc.Arbitrary<Json | undefined> = schema
    ? fuzzValue(schema, ctx)
    : fc.constantFrom<Json | undefined>(undefined, {}, null);
  return fc
    .record({
      input,
      batched: fc.nat({ max: 4 }).map((n) => n === 0),
      spelled: trpcPathSpelling(path),
      credential,
      methodFlip: fc.nat({ max: 19 }),
      contentType,
      extra: extraHeaders,
      gzip: fc.nat({ max: 19 }),
      sameOrigin: fc.nat({ max: 9 }),
    })
    .map((c) => {
      const flip = c.methodFlip === 0;
      const method = (type === 'query') !== flip ? 'GET' : 'POST';
      const batched = c.batched || c.spelled.includes(',');
      const payload: Json | undefined = batched
        ? Object.fromEntries(c.spelled.split(',').map((_, i) => [String(i), c.input ?? null]))
        : c.input;
      const text = payload === undefined ? undefined : toJsonText(payload);
      const headers: Record<string, string> = { ...c.extra };
      // Most cookie-authenticated mutations come from our own origin; some do not (CSRF must refuse them).
      if (c.sameOrigin > 0 && !('sec-fetch-site' in headers)) headers['sec-fetch-site'] = 'same-origin';
      let target = `/trpc/${c.spelled}`;
      const params: string[] = [];
      if (batched) params.push('batch=1');
      let body: FuzzCase['body'];
      let encoding: FuzzCase['encoding'];
      if (method === 'GET') {
        // Past 16 KiB the request head never reaches us (Node answers 431 or resets): keep query inputs below it.
        const query = text !== undefined && text.length > 4000 ? toJsonText(deepArray(1000)) : text;
        if (query !== undefined) params.push(`input=${encodeURIComponentLoosely(query)}`);
      } else {
        body = { text: text ?? '' };
        if (c.contentType !== '') headers['content-type'] = c.contentType;
        if (c.gzip === 0) {
          encoding = 'gzip';
          headers['content-encoding'] = 'gzip';
        }
      }
      if (params.length > 0) target += `${target.includes('?') ? '&' : '?'}${params.join('&')}`;
      return {
        target: path,
        transport: 'trpc' as const,
        method,
        path: asRequestTarget(target),
        headers,
        credential: c.credential,
        ...(body ? { body } : {}),
        ...(encoding ? { encoding } : {}),
      };
    });
}

export function trpcArbitraries(): { target: string; arbitrary: fc.Arbitrary<FuzzCase> }[] {
  return procedureInputSchemas().map(({ path, type, schema }) => ({
    target: path,
    arbitrary: trpcCase(path, type, schema),
  }));
}

/** Requests that aim at nothing in particular: unknown paths and hostile request targets. */
export function strayArbitrary(): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      prefix: fc.constantFrom('/api/v1/', '/trpc/', '/', '/docs/', '/api/', '/api/v2/'),
      segment: fc.oneof(
        hostileSegment,
        fc.constantFrom('me', 'status', 'orgs', 'healthz', 'openapi.json', 'errors'),
      ),
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
      credential,
      extra: extraHeaders,
    })
    .map((c) => ({
      target: 'stray',
      transport: c.prefix.startsWith('/trpc') ? ('trpc' as const) : ('rest' as const),
      method: c.method,
      path: asRequestTarget(`${c.prefix}${c.segment}`),
      headers: c.extra,
      credential: c.credential,
    }));
}
