import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { BOUNDARY, multipartBody, type Part, postMultipart } from './helpers/multipart.ts';
import { raw } from './helpers/raw-http.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

/**
 * Attacks on the dataset and item routes over raw HTTP, and the whole-request refusals (400/413/415). Each case
 * that found something while these routes were built is kept here as a regression.
 */
let app: TestApp;
let ada: Person;
let vic: Person;
let otto: Person;
let orgId: string;
let projectId: string;
let datasetId: string;
let member: string;
let viewer: string;
let scopedElsewhere: string;
let ottoKey: string;
let otherDataset: { orgId: string; projectId: string; datasetId: string };
let base: string;
let files: string;
let items: string;

const FILE_MAX = 4096;
const UPLOAD_MAX = 64 * 1024;

beforeAll(async () => {
  app = await startTestApp({
    config: {
      items: { fileMaxBytes: FILE_MAX, uploadMaxBytes: UPLOAD_MAX, textBatchMaxBytes: 16 * 1024 * 1024 },
    },
  });
  const cast = await people(app, ['Ada', 'Vic', 'Otto']);
  ada = cast.Ada as Person;
  vic = cast.Vic as Person;
  otto = cast.Otto as Person;
  orgId = (await orgWith(ada, 'Mine', [{ person: vic, role: 'viewer' }])).id;
  projectId = (await ada.browser.trpc.projects.create.mutate({ orgId, name: 'p' })).id;
  datasetId = (await ada.browser.trpc.datasets.create.mutate({ orgId, projectId, name: 'd' })).id;
  member = (await keyFor(ada, orgId, { role: 'member' })).key;
  viewer = (await keyFor(vic, orgId, { role: 'viewer' })).key;
  const ottoOrg = (await orgWith(otto, 'Theirs')).id;
  const ottoProject = (await otto.browser.trpc.projects.create.mutate({ orgId: ottoOrg, name: 'p' })).id;
  const ottoDataset = await otto.browser.trpc.datasets.create.mutate({
    orgId: ottoOrg,
    projectId: ottoProject,
    name: 'd',
  });
  otherDataset = { orgId: ottoOrg, projectId: ottoProject, datasetId: ottoDataset.id };
  ottoKey = (await keyFor(otto, ottoOrg, { role: 'admin' })).key;
  // Ada's key confined to an organization of hers that is not this one.
  const home = (await ada.browser.trpc.orgs.create.mutate({ name: 'Home' })).id;
  scopedElsewhere = (await keyFor(ada, orgId, { role: 'admin', orgIds: [home] })).key;
  base = `/orgs/${orgId}/projects/${projectId}/datasets`;
  files = `${base}/${datasetId}/files`;
  items = `${base}/${datasetId}/items`;
});
afterAll(async () => {
  await app?.close();
});

const problem = (text: string) => JSON.parse(text) as Problem & { requiredPermission?: string };
const oneFile: Part[] = [{ filename: 'a.txt', contentType: 'text/plain', body: 'a' }];

describe('who may touch a dataset', () => {
  it('a viewer key reads but may not upload: 403 naming datasets:write, before any of the body is stored', async () => {
    expect((await rest(app.url, viewer, 'GET', items)).status).toBe(200);
    const text = await rest<Problem & { requiredPermission: string }>(app.url, viewer, 'POST', items, {
      items: [{ externalId: 'v', text: 'v' }],
    });
    expect(text.status).toBe(403);
    expect(text.body).toMatchObject({
      code: 'FORBIDDEN',
      requiredPermission: 'datasets:write',
      requiredRole: 'member',
    });
    expect(text.body.detail).toContain('datasets:write');
    const upload = await postMultipart(app.url, files, viewer, multipartBody(oneFile));
    expect(upload.status).toBe(403);
    expect(problem(upload.text)).toMatchObject({ code: 'FORBIDDEN', requiredPermission: 'datasets:write' });
    const page = await rest<{ items: unknown[] }>(app.url, member, 'GET', items);
    expect(page.body.items).toEqual([]);
  });

  it('without a key: 401 on every route, uploads included', async () => {
    expect((await postMultipart(app.url, files, null, multipartBody(oneFile))).status).toBe(401);
    expect((await rest(app.url, null, 'GET', items)).status).toBe(401);
  });

  it('a key scoped to another organization is refused (ORG_OUT_OF_SCOPE), uploads included', async () => {
    const upload = await postMultipart(app.url, files, scopedElsewhere, multipartBody(oneFile));
    expect(problem(upload.text).code).toBe('ORG_OUT_OF_SCOPE');
    expect((await rest<Problem>(app.url, scopedElsewhere, 'GET', items)).body.code).toBe('ORG_OUT_OF_SCOPE');
  });

  it('another tenant’s dataset answers exactly like a missing one, through my own organization’s path', async () => {
    const missing = randomUUID();
    const theirs = `${base}/${otherDataset.datasetId}`;
    const absent = `${base}/${missing}`;
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/items'],
      ['GET', `/items/${randomUUID()}`],
    ] as const) {
      const a = await rest<Problem>(app.url, member, method, `${theirs}${suffix}`);
      const b = await rest<Problem>(app.url, member, method, `${absent}${suffix}`);
      expect(a.status).toBe(404);
      expect({ ...a.body, instance: '' }).toEqual({ ...b.body, instance: '' });
    }
    const a = await postMultipart(app.url, `${theirs}/files`, member, multipartBody(oneFile));
    const b = await postMultipart(app.url, `${absent}/files`, member, multipartBody(oneFile));
    expect(a.status).toBe(404);
    expect({ ...problem(a.text), instance: '' }).toEqual({ ...problem(b.text), instance: '' });
    // Their dataset under their project id, with my key: the organization is not mine.
    const direct = await rest<Problem>(
      app.url,
      member,
      'GET',
      `/orgs/${otherDataset.orgId}/projects/${otherDataset.projectId}/datasets/${otherDataset.datasetId}`,
    );
    expect(direct.status).toBe(404);
    const found = await rest<Problem>(
      app.url,
      ottoKey,
      'GET',
      `/orgs/${otherDataset.orgId}/datasets/${datasetId}`,
    );
    expect(found.status).toBe(404);
  });
});

describe('whole-request refusals', () => {
  it('101 file parts: 413, and nothing stored', async () => {
    const parts = Array.from({ length: 101 }, (_, i) => ({
      filename: `f${i}`,
      contentType: 'text/plain',
      body: 'x',
    }));
    const res = await postMultipart(app.url, files, member, multipartBody(parts));
    expect(res.status).toBe(413);
    expect(problem(res.text).code).toBe('PAYLOAD_TOO_LARGE');
    expect(
      (await rest<{ itemCount: number }>(app.url, member, 'GET', `${base}/${datasetId}`)).body.itemCount,
    ).toBe(0);
  });

  it('a file one byte over ITEM_FILE_MAX_BYTES, or a request over ITEM_UPLOAD_MAX_BYTES: 413', async () => {
    const over = await postMultipart(
      app.url,
      files,
      member,
      multipartBody([{ filename: 'big', contentType: 'text/plain', body: Buffer.alloc(FILE_MAX + 1, 97) }]),
    );
    expect(over.status).toBe(413);
    expect(problem(over.text).detail).toContain('files.0');
    const exact = await postMultipart(
      app.url,
      files,
      member,
      multipartBody([{ filename: 'exact', contentType: 'text/plain', body: Buffer.alloc(FILE_MAX, 97) }]),
    );
    expect(exact.status).toBe(200);
    const many = Array.from({ length: 17 }, (_, i) => ({
      filename: `m${i}`,
      contentType: 'text/plain',
      body: Buffer.alloc(FILE_MAX, 98 + (i % 5)),
    }));
    expect((await postMultipart(app.url, files, member, multipartBody(many))).status).toBe(413);
  });

  it('text batches: 1,001 items or a text over 64 KiB answer 413; bad JSON 400; a body that is not JSON 415', async () => {
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ externalId: `x${i}`, text: 'x' }));
    expect((await rest<Problem>(app.url, member, 'POST', items, { items: tooMany })).status).toBe(413);
    const big = await rest<Problem>(app.url, member, 'POST', items, {
      items: [{ externalId: 'big', text: 'é'.repeat(32 * 1024 + 1) }],
    });
    expect(big.status).toBe(413);
    const broken = await fetch(`${app.url}/api/v1${items}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${member}`, 'content-type': 'application/json' },
      body: '{"items":',
    });
    expect(broken.status).toBe(400);
    const notJson = await postMultipart(app.url, items, member, multipartBody(oneFile));
    expect(notJson.status).toBe(415);
    const jsonToFiles = await rest<Problem>(app.url, member, 'POST', files, { files: [] });
    expect(jsonToFiles.status).toBe(415);
  });

  it('a text batch above BODY_LIMIT_BYTES but within the item routes’ own limit is accepted', async () => {
    const text = 'y'.repeat(60 * 1024);
    const batch = Array.from({ length: 4 }, (_, i) => ({ externalId: `large-${i}`, text: `${i}${text}` }));
    const res = await rest<{ created: number }>(app.url, member, 'POST', items, { items: batch });
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(4);
  });

  it('cursors that are not ours, and pages over the cap, answer 400', async () => {
    for (const cursor of ['x', 'Zm9v', "1' or '1'='1", btoa('2026-01-01T00:00:00.000Z|not-a-uuid')]) {
      const res = await rest<Problem>(
        app.url,
        member,
        'GET',
        `${items}?cursor=${encodeURIComponent(cursor)}`,
      );
      expect(res.status, cursor).toBe(400);
    }
    expect((await rest(app.url, member, 'GET', `${items}?limit=101`)).status).toBe(400);
    expect((await rest(app.url, member, 'GET', `${items}?limit=1000&fields=externalId`)).status).toBe(200);
    expect((await rest(app.url, member, 'GET', `${items}?limit=1001&fields=externalId`)).status).toBe(400);
    expect((await rest(app.url, member, 'GET', `${base}?limit=101`)).status).toBe(400);
  });
});

describe('attacks over raw HTTP', () => {
  it('other spellings of the upload path land on the upload route, or on nothing', async () => {
    const body = multipartBody([{ filename: 'spelling.txt', contentType: 'text/plain', body: 'sp' }]);
    const upper = `/ORGS/${orgId}/projects/${projectId}/DATASETS/${datasetId}/FILES/`;
    const res = await postMultipart(app.url, upper, member, body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ results: [{ externalId: 'spelling.txt' }] });
    const dotted = await postMultipart(app.url, `${base}/${datasetId}/x/../files`, member, body);
    expect(JSON.parse(dotted.text)).toMatchObject({ existing: 1 });
    // An id carrying an encoded slash names no dataset: refused before any body is read.
    const slashed = await postMultipart(app.url, `${base}/${datasetId}%2Fx/files`, member, body);
    expect(slashed.status).toBe(400);
    const slashedGet = await raw(app.url, 'GET', `/api/v1${base}/${datasetId}%2F..%2F/items`, {
      headers: { authorization: `Bearer ${member}` },
    });
    expect([400, 404]).toContain(slashedGet.status);
  });

  it('a part without a filename, a file with an empty filename, or an unknown field: 400', async () => {
    const noName = await postMultipart(app.url, files, member, multipartBody([{ name: 'file', body: 'x' }]));
    expect(noName.status).toBe(400);
    const empty = await postMultipart(app.url, files, member, multipartBody([{ filename: '', body: 'x' }]));
    expect(empty.status).toBe(400);
    const late = await postMultipart(
      app.url,
      files,
      member,
      multipartBody([...oneFile, { name: 'externalId:0', body: 'too-late' }]),
    );
    expect(late.status).toBe(400);
  });

  it('NUL or control characters in an externalId or a file name: 400 naming the field', async () => {
    const nul = await postMultipart(
      app.url,
      files,
      member,
      multipartBody([{ name: 'externalId:0', body: 'a\u0000b' }, ...oneFile]),
    );
    expect(nul.status).toBe(400);
    expect(problem(nul.text).errors?.[0]?.path).toBe('files.0.externalId');
    const newline = await postMultipart(
      app.url,
      files,
      member,
      multipartBody([{ filename: 'a\tb', body: 'x' }]),
    );
    expect(newline.status).toBe(400);
    const text = await rest<Problem>(app.url, member, 'POST', items, {
      items: [{ externalId: 'a\u0000', text: 'x' }],
    });
    expect(text.status).toBe(400);
  });

  it('part headers over 16 KiB and a missing boundary answer 400/415, never 500; many small ones are harmless', async () => {
    const hugeHeader = multipartBody([
      { ...oneFile[0], body: 'x', headers: [`X-Junk: ${'j'.repeat(20 * 1024)}`] },
    ]);
    const res = await postMultipart(app.url, files, member, hugeHeader);
    expect(res.status).toBe(400);
    expect(problem(res.text).code).toBe('BAD_REQUEST');
    // 500 pairs fit in the 16 KiB a part header may take: read, and the file stored as sent.
    const manyHeaders = multipartBody([
      {
        filename: 'headers.txt',
        contentType: 'text/plain',
        body: 'h',
        headers: Array.from({ length: 500 }, (_, i) => `X-H${i}: v`),
      },
    ]);
    const many = await postMultipart(app.url, files, member, manyHeaders);
    expect(JSON.parse(many.text)).toMatchObject({
      results: [{ externalId: 'headers.txt', status: 'created' }],
    });
    const noBoundary = await postMultipart(app.url, files, member, multipartBody(oneFile), {
      'content-type': 'multipart/form-data',
    });
    expect(noBoundary.status).toBe(415);
    const gzip = await postMultipart(app.url, files, member, multipartBody(oneFile), {
      'content-encoding': 'gzip',
    });
    expect(gzip.status).toBe(415);
  });

  it('a declared length over the upload limit is refused at once, without reading the body', async () => {
    const { hostname, port } = new URL(app.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          [
            `POST /api/v1${files} HTTP/1.1`,
            `Host: ${hostname}`,
            `Authorization: Bearer ${member}`,
            `Content-Type: multipart/form-data; boundary=${BOUNDARY}`,
            `Content-Length: ${UPLOAD_MAX * 100}`,
            '',
            '',
          ].join('\r\n'),
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('utf8');
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.toLowerCase()).toContain('connection: close');
  });
});
