import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { multipartBody, type Part, postMultipart } from './helpers/multipart.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

interface Dataset {
  id: string;
  projectId: string;
  name: string;
  itemCount: number;
}
interface Results {
  results: { externalId: string; status: string; itemId?: string; error?: { code: string } }[];
  created: number;
  existing: number;
  rejected: number;
}
interface ItemPage {
  items: {
    id: string;
    externalId: string;
    kind?: string;
    size?: number;
    sha256?: string;
    name?: string | null;
  }[];
  nextCursor: string | null;
}

let app: TestApp;
let ada: Person;
let orgId: string;
let projectId: string;
let member: string;
let admin: string;
let base: string;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  app = await startTestApp();
  ada = (await people(app, ['Ada'])).Ada as Person;
  orgId = (await orgWith(ada, 'Data')).id;
  projectId = (await ada.browser.trpc.projects.create.mutate({ orgId, name: 'p' })).id;
  member = (await keyFor(ada, orgId, { role: 'member' })).key;
  admin = (await keyFor(ada, orgId, { role: 'admin' })).key;
  base = `/orgs/${orgId}/projects/${projectId}/datasets`;
});
afterAll(async () => {
  await app?.close();
});

async function newDataset(name: string): Promise<Dataset> {
  const res = await rest<Dataset>(app.url, member, 'POST', base, { name });
  expect(res.status).toBe(201);
  return res.body;
}

describe('datasets', () => {
  it('are created (201), read, found by id alone, listed a page at a time with opaque cursors, and deleted by admins', async () => {
    const made = [await newDataset('one'), await newDataset('two'), await newDataset('three')];
    expect(made[0]).toMatchObject({ name: 'one', projectId, itemCount: 0 });
    const got = await rest<Dataset>(app.url, member, 'GET', `${base}/${made[0]?.id}`);
    expect(got.body).toEqual(made[0]);
    const found = await rest<Dataset>(app.url, member, 'GET', `/orgs/${orgId}/datasets/${made[1]?.id}`);
    expect(found.body).toEqual(made[1]);

    const first = await rest<{ items: Dataset[]; nextCursor: string | null }>(
      app.url,
      member,
      'GET',
      `${base}?limit=2`,
    );
    expect(first.body.items.map((d) => d.name)).toEqual(['one', 'two']);
    expect(first.body.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await rest<{ items: Dataset[]; nextCursor: string | null }>(
      app.url,
      member,
      'GET',
      `${base}?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((d) => d.name)).toEqual(['three']);
    expect(second.body.nextCursor).toBeNull();

    expect((await rest(app.url, member, 'POST', base, { name: 'one' })).status).toBe(409);
    expect((await rest(app.url, member, 'DELETE', `${base}/${made[2]?.id}`)).status).toBe(403);
    expect((await rest(app.url, admin, 'DELETE', `${base}/${made[2]?.id}`)).status).toBe(200);
    expect((await rest(app.url, admin, 'GET', `${base}/${made[2]?.id}`)).status).toBe(404);
  });
});

describe('text items', () => {
  it('take 1,000 items in one request, answer per item, and a retry creates nothing', async () => {
    const dataset = await newDataset('texts');
    const items = Array.from({ length: 1000 }, (_, i) => ({
      externalId: `t-${i}`,
      text: `text number ${i} ${'x'.repeat(200)}`,
    }));
    const path = `${base}/${dataset.id}/items`;
    const first = await rest<Results>(app.url, member, 'POST', path, { items });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: 1000, existing: 0, rejected: 0 });
    expect(first.body.results.map((r) => r.externalId)).toEqual(items.map((i) => i.externalId));

    const changed = items.map((item, i) => (i === 7 ? { ...item, text: 'other' } : item));
    const again = await rest<Results>(app.url, member, 'POST', path, { items: changed });
    expect(again.body).toMatchObject({ created: 0, existing: 999, rejected: 1 });
    expect(again.body.results[7]).toMatchObject({ status: 'rejected', error: { code: 'CONFLICT' } });
    expect(again.body.results[8]).toEqual({ ...first.body.results[8], status: 'exists' });

    const stored = await rest<Dataset>(app.url, member, 'GET', `${base}/${dataset.id}`);
    expect(stored.body.itemCount).toBe(1000);
    const itemId = first.body.results[3]?.itemId;
    const item = await rest<{ text: string; sha256: string; size: number; kind: string; mediaType: string }>(
      app.url,
      member,
      'GET',
      `${path}/${itemId}`,
    );
    const text = items[3]?.text ?? '';
    expect(item.body).toMatchObject({
      kind: 'text',
      text,
      sha256: sha256(text),
      size: Buffer.byteLength(text),
    });
  });

  it('list every externalId in pages of up to 1,000 (fields=externalId), or full items in pages of up to 100', async () => {
    const dataset = await newDataset('pages');
    const path = `${base}/${dataset.id}/items`;
    const items = Array.from({ length: 250 }, (_, i) => ({ externalId: `p-${i}`, text: `${i}` }));
    await rest(app.url, member, 'POST', path, { items });
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { body: ItemPage } = await rest<ItemPage>(
        app.url,
        member,
        'GET',
        `${path}?fields=externalId&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      ids.push(...page.body.items.map((i) => i.externalId));
      expect(Object.keys(page.body.items[0] ?? {}).sort()).toEqual(['externalId', 'id']);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(ids.sort()).toEqual(items.map((i) => i.externalId).sort());
    const big = await rest<ItemPage>(app.url, member, 'GET', `${path}?fields=externalId&limit=1000`);
    expect(big.body.items).toHaveLength(250);
    const full = await rest<ItemPage>(app.url, member, 'GET', `${path}?limit=100`);
    expect(full.body.items[0]).toMatchObject({
      kind: 'text',
      size: expect.any(Number),
      sha256: expect.any(String),
    });
  });
});

describe('file uploads', () => {
  it('store 100 files from one multipart request, with names, media types, sizes and hashes', async () => {
    const dataset = await newDataset('files');
    const parts: Part[] = Array.from({ length: 100 }, (_, i) => ({
      filename: `file-${i}.txt`,
      contentType: i % 2 === 0 ? 'text/plain' : 'image/png',
      body: `content ${i}`,
    }));
    const path = `${base}/${dataset.id}/files`;
    const res = await postMultipart(app.url, path, member, multipartBody(parts));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as Results;
    expect(body).toMatchObject({ created: 100, existing: 0, rejected: 0 });
    const page = await rest<ItemPage & { items: { mediaType: string }[] }>(
      app.url,
      member,
      'GET',
      `${base}/${dataset.id}/items?limit=100`,
    );
    const byId = new Map(page.body.items.map((i) => [i.externalId, i]));
    expect(byId.get('file-1.txt')).toMatchObject({
      kind: 'file',
      name: 'file-1.txt',
      mediaType: 'image/png',
      size: Buffer.byteLength('content 1'),
      sha256: sha256('content 1'),
    });
    // A retry of the same request is safe: everything exists.
    const again = await postMultipart(app.url, path, member, multipartBody(parts));
    expect(JSON.parse(again.text)).toMatchObject({ created: 0, existing: 100 });
  });

  it('take a file’s externalId from an externalId:<n> field sent before it, and store zero-byte files', async () => {
    const dataset = await newDataset('named');
    const parts: Part[] = [
      { name: 'externalId:1', body: 'my-own-id' },
      { filename: 'a.txt', contentType: 'text/plain', body: 'a' },
      { filename: 'b.bin', contentType: 'application/octet-stream', body: 'b' },
      { filename: 'empty.txt', contentType: 'text/plain', body: '' },
    ];
    const res = await postMultipart(app.url, `${base}/${dataset.id}/files`, member, multipartBody(parts));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as Results;
    expect(body.results.map((r) => [r.externalId, r.status])).toEqual([
      ['a.txt', 'created'],
      ['my-own-id', 'created'],
      ['empty.txt', 'created'],
    ]);
    const empty = await rest<{ size: number; sha256: string }>(
      app.url,
      member,
      'GET',
      `${base}/${dataset.id}/items/${body.results[2]?.itemId}`,
    );
    expect(empty.body).toMatchObject({ size: 0, sha256: sha256('') });
  });

  it('deleting an item (admin) keeps the dataset’s count', async () => {
    const dataset = await newDataset('deletions');
    const added = await rest<Results>(app.url, member, 'POST', `${base}/${dataset.id}/items`, {
      items: [
        { externalId: 'a', text: 'a' },
        { externalId: 'b', text: 'b' },
      ],
    });
    const itemPath = `${base}/${dataset.id}/items/${added.body.results[0]?.itemId}`;
    expect((await rest(app.url, member, 'DELETE', itemPath)).status).toBe(403);
    expect((await rest(app.url, admin, 'DELETE', itemPath)).status).toBe(200);
    expect((await rest(app.url, admin, 'DELETE', itemPath)).status).toBe(404);
    expect((await rest<Dataset>(app.url, member, 'GET', `${base}/${dataset.id}`)).body.itemCount).toBe(1);
  });
});

describe('over tRPC', () => {
  it('the same procedures: datasets.create, items.add, items.upload (base64 JSON), items.list', async () => {
    const dataset = await ada.browser.trpc.datasets.create.mutate({ orgId, projectId, name: 'trpc' });
    const ref = { orgId, projectId, datasetId: dataset.id };
    const added = await ada.browser.trpc.items.add.mutate({
      ...ref,
      items: [{ externalId: 'x', text: 'hello' }],
    });
    expect(added.created).toBe(1);
    const uploaded = await ada.browser.trpc.items.upload.mutate({
      ...ref,
      files: [
        { name: 'f.png', mediaType: 'image/png', contentBase64: Buffer.from('png!').toString('base64') },
      ],
    });
    expect(uploaded.results[0]).toMatchObject({ externalId: 'f.png', status: 'created' });
    const list = await ada.browser.trpc.items.list.query({ ...ref, limit: 10 });
    expect(list.items.map((i) => i.externalId).sort()).toEqual(['f.png', 'x']);
  });
});
