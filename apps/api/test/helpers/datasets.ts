import { createHash, randomUUID } from 'node:crypto';
import type { PipelineItem } from '@crowdee/core';
import { Dataset, DatasetItem, type Orm } from '@crowdee/db';

export type SeedItem =
  | { externalId: string; text: string }
  | { externalId: string; name: string; mediaType: string; bytes: Buffer };

/**
 * A dataset with items, written straight to the database (the upload routes are tested where they live): what a
 * run reads. Items of one call share a creation time, as one upload batch's do.
 */
export async function seedDataset(
  orm: Orm,
  where: { orgId: string; projectId: string; createdBy: string },
  items: SeedItem[],
  name = `data-${randomUUID().slice(0, 8)}`,
): Promise<{ datasetId: string }> {
  const em = orm.em.fork();
  const dataset = em.create(Dataset, {
    id: randomUUID(),
    organization: where.orgId,
    project: where.projectId,
    name,
    description: null,
    createdBy: where.createdBy,
    createdAt: new Date(),
    itemCount: 0,
  });
  await em.flush();
  await addItems(orm, dataset.id, items);
  return { datasetId: dataset.id };
}

export async function addItems(orm: Orm, datasetId: string, items: SeedItem[]): Promise<void> {
  const em = orm.em.fork();
  const now = new Date();
  for (const item of items) {
    const bytes = 'text' in item ? Buffer.from(item.text, 'utf8') : item.bytes;
    em.create(DatasetItem, {
      id: randomUUID(),
      dataset: datasetId,
      externalId: item.externalId,
      kind: 'text' in item ? 'text' : 'file',
      name: 'text' in item ? null : item.name,
      mediaType: 'text' in item ? 'text/plain; charset=utf-8' : item.mediaType,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      text: 'text' in item ? item.text : null,
      content: 'text' in item ? null : bytes,
      createdAt: now,
    });
  }
  await em.flush();
  await em
    .getConnection()
    .execute(
      'update datasets set item_count = (select count(*) from dataset_items where dataset_id = ?) where id = ?',
      [datasetId, datasetId],
    );
}

/** The dataset's items as packages/core's pipeline sees them, read independently of the worker's queries. */
export async function pipelineItems(orm: Orm, datasetId: string): Promise<PipelineItem[]> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<
      {
        id: string;
        created_us: string;
        kind: 'file' | 'text';
        media_type: string;
        size: number;
        sha256: string;
        text: string | null;
      }[]
    >(
      `select id, (extract(epoch from created_at) * 1000000)::bigint as created_us, kind, media_type, size, sha256,
            text from dataset_items where dataset_id = ?`,
      [datasetId],
    );
  return rows.map((row) => ({
    id: row.id,
    // Epoch microseconds, as the worker reads them.
    createdAt: Number(row.created_us),
    kind: row.kind,
    mediaType: row.media_type,
    size: Number(row.size),
    sha256: row.sha256,
    text: row.kind === 'text' ? (row.text ?? '') : null,
  }));
}

/** A mixed dataset that makes every default check fire somewhere: duplicates, near duplicates, URLs, controls. */
export function mixedItems(count: number): SeedItem[] {
  const texts = ['hello world', 'Hello, World!', 'see https://example.com', 'a\u0007bell', '   ', 'unique'];
  return Array.from({ length: count }, (_, i): SeedItem => {
    if (i % 7 === 3)
      return {
        externalId: `file-${i}`,
        name: `f${i}.bin`,
        mediaType: i % 2 === 0 ? 'image/png' : 'application/zip',
        bytes: Buffer.from(`bytes ${i % 5}`),
      };
    const base = texts[i % texts.length] ?? '';
    return { externalId: `text-${i}`, text: i % 11 === 0 ? `${base} ${i}` : base };
  });
}
