/**
 * Sends fuzz cases over raw HTTP (node:http, so odd bytes, headers and request targets go out as written) and
 * judges each answer: no 5xx, an answer within 5 s, RateLimit headers, a challenge on 401, and for REST a status
 * the OpenAPI document declares for that operation with a body that matches its schema.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ERROR_CODES, generateKey } from '@crowdee/core';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { OpenAPIObject } from 'trpc-to-openapi';
import { keyFor, orgWith, type Person, people } from '../helpers/fixtures.ts';
import type { TestApp } from '../helpers/test-app.ts';
import type { FuzzCase } from './cases.ts';

export const REQUEST_TIMEOUT_MS = 5_000;
export const REGRESSIONS_DIR = new URL('../fuzz-regressions/', import.meta.url);

/** Who and what the placeholders in a case stand for; rebuilt now and then, since cases may delete or revoke. */
export interface Fixture {
  ids: Record<string, string>;
  key: string;
  otherKey: string;
  cookie: string;
}

export async function buildFixture(app: TestApp): Promise<Fixture> {
  const cast = await people(app, ['Owner', 'Member', 'Stranger']);
  const owner = cast.Owner as Person;
  const stranger = cast.Stranger as Person;
  const member = cast.Member as Person;
  const org = await orgWith(owner, 'Fuzz', [{ person: member, role: 'member' }]);
  const otherOrg = await orgWith(stranger, 'Elsewhere');
  const project = await owner.browser.trpc.projects.create.mutate({ orgId: org.id, name: 'fuzzed' });
  const otherProject = await stranger.browser.trpc.projects.create.mutate({
    orgId: otherOrg.id,
    name: 'theirs',
  });
  const key = await keyFor(owner, org.id, { role: 'admin' });
  const otherKey = await keyFor(stranger, otherOrg.id, { role: 'admin' });
  const sessions = await owner.browser.trpc.sessions.list.query();
  return {
    ids: {
      '@org@': org.id,
      '@otherOrg@': otherOrg.id,
      '@project@': project.id,
      '@otherProject@': otherProject.id,
      '@member@': member.id,
      '@keyId@': key.id,
      '@otherKeyId@': otherKey.id,
      '@sessionId@': sessions[0]?.id ?? 'none',
      '@email@': member.email,
      '@otherEmail@': stranger.email,
    },
    key: key.key,
    otherKey: otherKey.key,
    cookie: owner.browser.cookie ?? '',
  };
}

function fill(text: string, fixture: Fixture): string {
  return text.replace(/@[a-zA-Z]+@/g, (p) => fixture.ids[p] ?? p);
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request, as written; null when no answer came within the timeout (a hang). */
export function send(baseUrl: string, fuzz: FuzzCase, fixture: Fixture): Promise<Answer | null> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(fuzz.headers)) headers[k] = fill(v, fixture);
  if (fuzz.credential === 'key' || fuzz.credential === 'key+session')
    headers.authorization = `Bearer ${fixture.key}`;
  if (fuzz.credential === 'other-key') headers.authorization = `Bearer ${fixture.otherKey}`;
  if (fuzz.credential === 'bad-key') headers.authorization = `Bearer ${generateKey().key}`;
  if (fuzz.credential === 'session' || fuzz.credential === 'key+session') headers.cookie = fixture.cookie;
  let body: Buffer | undefined;
  if (fuzz.body) {
    body =
      'text' in fuzz.body
        ? Buffer.from(fill(fuzz.body.text, fixture), 'utf8')
        : Buffer.from(fuzz.body.base64, 'base64');
    if (fuzz.encoding === 'gzip') body = gzipSync(body);
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: fuzz.method,
        path: fill(fuzz.path, fixture),
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve(null);
    }, REQUEST_TIMEOUT_MS);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}

/* ----------------------------------------------------------------------------------------------- judging answers */

type Responses = Record<string, { content?: Record<string, { schema: unknown }> }>;

export class Judge {
  private readonly ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: {
    template: string;
    matcher: RegExp;
    operations: Record<string, { responses: Responses }>;
  }[];

  constructor(doc: OpenAPIObject) {
    this.ajv.addSchema({ $id: 'openapi', components: doc.components } as object);
    this.routes = Object.entries(doc.paths ?? {}).map(([template, item]) => ({
      template,
      matcher: new RegExp(
        `^/api/v1${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/*$`,
      ),
      operations: item as Record<string, { responses: Responses }>,
    }));
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      // Refs in the document are local to it; point them at the copy registered as `openapi`.
      const text = JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/');
      validate = this.ajv.compile(JSON.parse(text) as object);
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** What is wrong with this answer, or an empty list. */
  judge(fuzz: FuzzCase, filledPath: string, answer: Answer | null): string[] {
    if (answer === null) return [`no answer within ${REQUEST_TIMEOUT_MS} ms`];
    const problems: string[] = [];
    const { status } = answer;
    if (status >= 500) problems.push(`status ${status}`);
    // 431 comes from Node's HTTP parser (request head over 16 KiB), before any of our code runs.
    if (fuzz.method !== 'OPTIONS' && status !== 431 && answer.headers.ratelimit === undefined) {
      problems.push('no RateLimit header');
    }
    if (status === 401 && !String(answer.headers['www-authenticate'] ?? '').startsWith('Bearer realm=')) {
      problems.push('401 without a Bearer challenge');
    }
    if (status === 405 && !answer.headers.allow) problems.push('405 without Allow');
    const type = String(answer.headers['content-type'] ?? '').split(';')[0] ?? '';
    let body: unknown;
    // tRPC streams JSON lines to clients that ask for them (httpBatchStreamLink); that is not one JSON document.
    const streamed = fuzz.headers['trpc-accept'] === 'application/jsonl';
    if (fuzz.method !== 'HEAD' && answer.body !== '' && !streamed) {
      try {
        body = JSON.parse(answer.body);
      } catch {
        if (type.includes('json')) problems.push('JSON content type with a body that is not JSON');
      }
    }
    const pathOnly = filledPath.split('?')[0] ?? '';
    if (fuzz.transport === 'trpc' && pathOnly.startsWith('/trpc') && status >= 400 && body !== undefined) {
      const envelopes = Array.isArray(body) ? body : [body];
      for (const envelope of envelopes) {
        const code = (envelope as { error?: { data?: { code?: unknown } } }).error?.data?.code;
        if (code !== undefined && !ERROR_CODES.includes(code as never))
          problems.push(`unknown code ${String(code)}`);
      }
    }
    if (!pathOnly.startsWith('/api/v1')) return problems;
    // REST: the answer must be one the document declares for the operation the request reached.
    const route = this.routes.find((r) => r.matcher.test(pathOnly));
    const operation = route?.operations[fuzz.method.toLowerCase()];
    if (!route || !operation) {
      if (fuzz.method === 'OPTIONS') return problems;
      if (status >= 400 && body !== undefined)
        problems.push(...this.check('problem', { $ref: 'openapi#/components/schemas/Problem' }, body));
      return problems;
    }
    const response = operation.responses[String(status)];
    if (!response) {
      problems.push(`status ${status} is not declared for ${fuzz.method} ${route.template}`);
      return problems;
    }
    const content = response.content?.[type];
    if (fuzz.method !== 'HEAD' && response.content && !content)
      problems.push(`content type ${type} not declared for ${status}`);
    if (content && body !== undefined) {
      problems.push(
        ...this.check(`${route.template} ${fuzz.method} ${status} ${type}`, content.schema, body),
      );
    }
    return problems;
  }

  private check(key: string, schema: unknown, body: unknown): string[] {
    const validate = this.validator(key, schema);
    if (validate(body)) return [];
    return [`body does not match the document (${key}): ${this.ajv.errorsText(validate.errors)}`];
  }
}

/* -------------------------------------------------------------------------------------------------- regressions */

export interface Regression {
  /** Why the case is kept: what it found. */
  found: string;
  case: FuzzCase;
}

export function loadRegressions(): { file: string; regression: Regression }[] {
  mkdirSync(REGRESSIONS_DIR, { recursive: true });
  return readdirSync(REGRESSIONS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      regression: JSON.parse(readFileSync(new URL(file, REGRESSIONS_DIR), 'utf8')) as Regression,
    }));
}

/** Saves a failing case (named by its content, so the same case is saved once) to be replayed on every run. */
export function saveRegression(fuzz: FuzzCase, found: string): string {
  const text = `${JSON.stringify({ found, case: fuzz } satisfies Regression, null, 2)}\n`;
  const name = `${createHash('sha256').update(JSON.stringify(fuzz)).digest('hex').slice(0, 12)}.json`;
  mkdirSync(REGRESSIONS_DIR, { recursive: true });
  writeFileSync(join(REGRESSIONS_DIR.pathname, name), text);
  return name;
}

export { fill };
