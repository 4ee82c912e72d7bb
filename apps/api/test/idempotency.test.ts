import { connect } from 'node:net';
import { adminQuery } from '@crowdee/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { BOUNDARY, multipartBody, type Part, postMultipart } from './helpers/multipart.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let second: TestApp;
let ada: Person;
let otto: Person;
let orgId: string;
let projectId: string;
let key: string;
let otherKeyOfAda: string;
let ottoKey: string;
let base: string;

beforeAll(async () => {
  app = await startTestApp();
  // Another API node on the same database: a key claimed on one is seen on the other.
  second = await startTestApp({ database: { url: app.dbUrl } });
  const cast = await people(app, ['Ada', 'Otto']);
  ada = cast.Ada as Person;
  otto = cast.Otto as Person;
  orgId = (await orgWith(ada, 'Idem')).id;
  projectId = (await ada.browser.trpc.projects.create.mutate({ orgId, name: 'p' })).id;
  key = (await keyFor(ada, orgId, { role: 'admin' })).key;
  otherKeyOfAda = (await keyFor(ada, orgId, { role: 'admin' })).key;
  const ottoOrg = (await orgWith(otto, 'Otto')).id;
  ottoKey = (await keyFor(otto, ottoOrg, { role: 'admin' })).key;
  base = `/orgs/${orgId}/projects/${projectId}/datasets`;
});
afterAll(async () => {
  await second?.close();
  await app?.close();
});

let n = 0;
const freshKey = () => `test-key-${Date.now()}-${++n}`;
const withKey = (k: string) => ({ 'idempotency-key': k });

async function datasetCount(): Promise<number> {
  const { rows } = await adminQuery(
    app.dbUrl,
    'select count(*)::int as n from datasets where project_id = $1',
    [projectId],
  );
  return (rows[0] as { n: number }).n;
}

describe('Idempotency-Key', () => {
  it('replays the stored answer to the same request, on any node, without running it again', async () => {
    const k = freshKey();
    const before = await datasetCount();
    const first = await rest(app.url, key, 'POST', base, { name: 'once' }, withKey(k));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await rest(second.url, key, 'POST', `${base}/`, { name: 'once' }, withKey(k));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await datasetCount()).toBe(before + 1);
  });

  it('refuses the key for another body or another path (422), and from another key or user never replays', async () => {
    const k = freshKey();
    await rest(app.url, key, 'POST', base, { name: 'first-body' }, withKey(k));
    const otherBody = await rest<Problem>(app.url, key, 'POST', base, { name: 'second-body' }, withKey(k));
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const otherPath = await rest<Problem>(
      app.url,
      key,
      'POST',
      `/orgs/${orgId}/projects`,
      { name: 'x' },
      withKey(k),
    );
    expect(otherPath.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Another key of the same user: its own record, so the request runs (and the name is taken: 409).
    const sibling = await rest<Problem>(
      app.url,
      otherKeyOfAda,
      'POST',
      base,
      { name: 'first-body' },
      withKey(k),
    );
    expect(sibling.status).toBe(409);
    expect(sibling.headers.get('idempotent-replayed')).toBeNull();
    // Another user sending the very same request and key learns nothing: their own answer (404), not Ada's.
    const stranger = await rest<Problem>(app.url, ottoKey, 'POST', base, { name: 'first-body' }, withKey(k));
    expect(stranger.status).toBe(404);
    expect(stranger.headers.get('idempotent-replayed')).toBeNull();
  });

  it('does not store failures: after a 400 the same key runs the corrected request', async () => {
    const k = freshKey();
    expect((await rest(app.url, key, 'POST', base, { name: '' }, withKey(k))).status).toBe(400);
    expect((await rest(app.url, key, 'POST', base, { name: 'corrected' }, withKey(k))).status).toBe(201);
  });

  it('forgets an answer after 24 hours: the same key then runs the request again', async () => {
    const dataset = await rest<{ id: string }>(app.url, key, 'POST', base, { name: 'expiry' });
    const path = `${base}/${dataset.body.id}/items`;
    const k = freshKey();
    const body = { items: [{ externalId: 'e', text: 'e' }] };
    const first = await rest(app.url, key, 'POST', path, body, withKey(k));
    expect(first.body).toMatchObject({ created: 1 });
    app.clock.advance(24 * 60 * 60 * 1000 + 1000);
    const later = await rest(app.url, key, 'POST', path, { ...body }, withKey(k));
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(later.body).toMatchObject({ created: 0, existing: 1 });
  });

  it('has stored the answer (or released the key) by the time the client has it: an instant retry never meets its own claim', async () => {
    // Regression: the answer used to be stored after the response had gone out, so a retry sent the moment the
    // answer arrived could find the claim still open (409 IDEMPOTENCY_KEY_IN_USE) on a busy machine.
    for (let i = 0; i < 10; i++) {
      const k = freshKey();
      const first = await rest(app.url, key, 'POST', base, { name: `instant-${i}` }, withKey(k));
      const { rows } = await adminQuery(app.dbUrl, 'select status from idempotency_records where key = $1', [
        k,
      ]);
      expect([first.status, (rows[0] as { status: number | null } | undefined)?.status]).toEqual([201, 201]);
      const again = await rest(second.url, key, 'POST', base, { name: `instant-${i}` }, withKey(k));
      expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 'true']);

      const refusedKey = freshKey();
      expect((await rest(app.url, key, 'POST', base, { name: '' }, withKey(refusedKey))).status).toBe(400);
      const { rows: left } = await adminQuery(
        app.dbUrl,
        'select count(*)::int as n from idempotency_records where key = $1',
        [refusedKey],
      );
      expect((left[0] as { n: number }).n).toBe(0);
    }
  });

  it('refuses malformed keys with 400', async () => {
    for (const bad of ['', 'x'.repeat(256)]) {
      const res = await rest<Problem>(app.url, key, 'POST', base, { name: 'bad-key' }, withKey(bad));
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('answers 409 to a twin while the first upload is still streaming, then replays it once done (multipart)', async () => {
    const dataset = await rest<{ id: string }>(app.url, key, 'POST', base, { name: 'in-flight' });
    const path = `/api/v1${base}/${dataset.body.id}/files`;
    const k = freshKey();
    const parts: Part[] = [{ filename: 'slow.txt', contentType: 'text/plain', body: 'slow' }];
    const body = multipartBody(parts);
    const { hostname, port } = new URL(app.url);
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      [
        `POST ${path} HTTP/1.1`,
        `Host: ${hostname}`,
        `Authorization: Bearer ${key}`,
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}`,
        `Content-Length: ${body.length}`,
        `Idempotency-Key: ${k}`,
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
    socket.write(body.subarray(0, 10));
    // Wait until the first request holds the key (its claim is in the database).
    for (let i = 0; i < 200; i++) {
      const { rows } = await adminQuery(app.dbUrl, 'select status from idempotency_records where key = $1', [
        k,
      ]);
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const twin = await postMultipart(app.url, `${base}/${dataset.body.id}/files`, key, body, withKey(k));
    expect(twin.status).toBe(409);
    expect(JSON.parse(twin.text)).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE' });
    socket.write(body.subarray(10));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const replay = await postMultipart(app.url, `${base}/${dataset.body.id}/files`, key, body, withKey(k));
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(replay.text)).toMatchObject({ created: 1 });
    const other = await postMultipart(
      app.url,
      `${base}/${dataset.body.id}/files`,
      key,
      multipartBody([{ filename: 'other.txt', contentType: 'text/plain', body: 'other' }]),
      withKey(k),
    );
    expect(other.status).toBe(422);
  });

  it('applies to every REST POST, not only the dataset routes', async () => {
    const k = freshKey();
    const first = await rest(
      app.url,
      key,
      'POST',
      `/orgs/${orgId}/projects`,
      { name: 'idem-project' },
      withKey(k),
    );
    expect(first.status).toBe(201);
    const again = await rest(
      app.url,
      key,
      'POST',
      `/orgs/${orgId}/projects`,
      { name: 'idem-project' },
      withKey(k),
    );
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});
