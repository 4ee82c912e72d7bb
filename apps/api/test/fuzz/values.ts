/**
 * fast-check arbitraries for request values, driven by JSON Schema (the OpenAPI document's, and `z.toJSONSchema` of
 * every tRPC input): valid values, values on and just past each bound, and hostile ones (NUL, lone surrogates,
 * numbers no float can hold, deep nesting, wrong types, extra fields a caller must not be able to set).
 */
import fc from 'fast-check';

/** JSON text that JSON.stringify cannot produce (huge literals, deep nesting): inserted verbatim. */
export class RawJson {
  constructor(readonly text: string) {}
}
export type Json = null | boolean | number | string | RawJson | Json[] | { [key: string]: Json };

export function toJsonText(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
  $ref?: string;
}

/**
 * Ids the fixture can fill in at send time (a case stays replayable against a fresh fixture): the caller's
 * organization and project, another tenant's, a member, the key and a session.
 */
export const ID_PLACEHOLDERS = [
  '@org@',
  '@otherOrg@',
  '@project@',
  '@otherProject@',
  '@member@',
  '@keyId@',
  '@otherKeyId@',
  '@sessionId@',
] as const;
const MISSING_UUID = '00000000-0000-4000-8000-000000000000';

const deep = (depth: number, open: string, close: string, leaf = '') =>
  new RawJson(open.repeat(depth) + leaf + close.repeat(depth));

/** Strings a boundary must refuse or store faithfully, never fail on. */
export const hostileString = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDC00y',
  '\uDBFF\uDBFF',
  '\uFEFF',
  '\u202Eevil',
  '',
  ' ',
  '\t\n',
  '😀'.repeat(60),
  'x'.repeat(5000),
  "' OR 1=1 --",
  '%00',
  '%ZZ',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'cdk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  MISSING_UUID,
  MISSING_UUID.toUpperCase(),
  `${MISSING_UUID}\u0000`,
  '__proto__',
);

export const hostileNumber = fc.constantFrom<Json>(
  new RawJson('1e400'),
  new RawJson('-1e400'),
  new RawJson('9'.repeat(400)),
  new RawJson('-0'),
  new RawJson('1E-400'),
  2 ** 53 + 1,
  -(2 ** 31),
  2 ** 31,
  Number.MAX_SAFE_INTEGER,
  -1,
  0,
  0.5,
  1e21,
);

export const hostileStructure = fc.constantFrom<Json>(
  deep(64, '[', ']'),
  deep(1000, '[', ']'),
  deep(10000, '[', ']'),
  deep(1000, '{"a":', '}', '1'),
  deep(5000, '{"a":', '}', 'null'),
  new RawJson('{"__proto__":{"admin":true,"role":"owner"}}'),
  new RawJson('{"constructor":{"prototype":{"role":"owner"}}}'),
  new RawJson('{"a":1,"a":2}'),
  [],
  {},
  [null],
  Array.from({ length: 2000 }, () => 0),
);

/** Anything at all, of any type: for a value whose schema we mean to violate. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  hostileString,
  hostileNumber,
  hostileStructure,
  fc.constantFrom<Json>(true, false, null),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

/** Fields a client must never be able to set by adding them to a body. */
export const privilegedFields = fc.constantFrom<Record<string, Json>>(
  { role: 'owner' },
  { organizationId: '@otherOrg@' },
  { orgId: '@otherOrg@' },
  { userId: '@member@' },
  { creatorId: '@member@' },
  { keyHash: 'x' },
  { isAdmin: true },
);

export interface SchemaContext {
  resolve(ref: string): JsonSchema | undefined;
}

function uuidValue(name: string | undefined): fc.Arbitrary<Json> {
  const named: Record<string, readonly string[]> = {
    orgId: ['@org@', '@org@', '@otherOrg@'],
    orgIds: ['@org@', '@otherOrg@'],
    projectId: ['@project@', '@project@', '@otherProject@'],
    userId: ['@member@'],
    id: ['@keyId@', '@otherKeyId@', '@project@'],
  };
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(named[name ?? ''] ?? ID_PLACEHOLDERS)) },
    { weight: 1, arbitrary: fc.uuid({ version: 4 }) },
    { weight: 1, arbitrary: fc.constant(MISSING_UUID) },
  );
}

function stringValue(schema: JsonSchema, name: string | undefined): fc.Arbitrary<Json> {
  if (schema.format === 'uuid') return uuidValue(name);
  if (name === 'email' || schema.format === 'email') {
    return fc.oneof(
      fc.constantFrom('@email@', '@otherEmail@'),
      fc.emailAddress().filter((e) => e.length <= (schema.maxLength ?? 254)),
    );
  }
  if (name === 'password') return fc.constantFrom('correct horse battery staple', 'short', 'x'.repeat(256));
  if (schema.format === 'date-time' || name === 'expiresAt') {
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 64, 300);
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: Math.max(min, 1), maxLength: Math.min(max, 40) }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 20) }) },
    // On each bound and one past it.
    {
      weight: 1,
      arbitrary: fc.constantFrom('x'.repeat(max), 'x'.repeat(max + 1), 'x'.repeat(Math.max(0, min - 1))),
    },
  );
}

function numberValue(schema: JsonSchema): fc.Arbitrary<Json> {
  const integer = schema.type === 'integer';
  const min = schema.minimum ?? schema.exclusiveMinimum ?? -1_000_000;
  const max = schema.maximum ?? schema.exclusiveMaximum ?? 1_000_000;
  const inRange = integer
    ? fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return fc.oneof(
    { weight: 4, arbitrary: inRange },
    { weight: 1, arbitrary: fc.constantFrom(min, max, min - 1, max + 1, integer ? min + 0.5 : min) },
  );
}

/** A value valid for `schema` (mostly: strings and numbers also take their bounds and one step past them). */
export function validValue(
  schema: JsonSchema,
  ctx: SchemaContext,
  name?: string,
  depth = 0,
): fc.Arbitrary<Json> {
  if (schema.$ref) {
    const target = ctx.resolve(schema.$ref);
    return target ? validValue(target, ctx, name, depth) : hostileValue;
  }
  if (schema.const !== undefined) return fc.constant(schema.const as Json);
  if (schema.enum) return fc.constantFrom(...(schema.enum as Json[]));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.length > 0) {
    return fc.oneof(...alternatives.map((s) => validValue(s, ctx, name, depth)));
  }
  if (schema.allOf && schema.allOf.length > 0) {
    return validValue(Object.assign({}, ...schema.allOf) as JsonSchema, ctx, name, depth);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringValue(schema, name);
    case 'integer':
    case 'number':
      return numberValue(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      if (depth > 4) return fc.constant([]);
      const items = validValue(schema.items ?? {}, ctx, name, depth + 1);
      return fc.array(items, {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, 5),
      });
    }
    case 'object': {
      if (depth > 4) return fc.constant({});
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(properties).map(([key, s]) => {
        const value = validValue(s, ctx, key, depth + 1);
        return [key, required.has(key) ? value : fc.option(value, { nil: undefined })] as const;
      });
      return fc
        .record(Object.fromEntries(entries))
        .map(
          (record) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Json,
        );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

/** A value for `schema`: valid, valid with one field broken, dropped or added, or something else entirely. */
export function fuzzValue(schema: JsonSchema, ctx: SchemaContext): fc.Arbitrary<Json> {
  const valid = validValue(schema, ctx);
  const broken = fc
    .tuple(valid, hostileValue, fc.nat(), fc.constantFrom('replace', 'drop', 'add'), privilegedFields)
    .map(([value, hostile, index, how, extra]) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RawJson) {
        return hostile;
      }
      const keys = Object.keys(value);
      const key = keys[index % Math.max(1, keys.length)];
      if (how === 'add' || key === undefined) return { ...value, ...extra };
      if (how === 'drop') {
        const { [key]: _dropped, ...rest } = value;
        return rest;
      }
      return { ...value, [key]: hostile };
    });
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 4, arbitrary: broken },
    { weight: 1, arbitrary: hostileValue },
  );
}
