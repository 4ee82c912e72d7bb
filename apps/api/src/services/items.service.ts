import { createHash, randomUUID } from 'node:crypto';
import {
  type BatchResults,
  batchResults,
  DomainError,
  entriesToInsert,
  type ItemKind,
  type StoredItem,
} from '@crowdee/core';
import { DatasetItem } from '@crowdee/db';
import { ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../context.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import {
  afterPosition,
  type DatasetRef,
  datasetNotFound,
  findDataset,
  nextCursorOf,
  type Page,
  pagePosition,
} from './datasets.service.ts';

/** An item ready to store: validated by the transport, hashed here. */
export interface PreparedItem {
  externalId: string;
  kind: ItemKind;
  name: string | null;
  mediaType: string;
  size: number;
  sha256: string;
  text: string | null;
  content: Buffer | null;
}

export interface ItemView {
  id: string;
  externalId: string;
  kind: ItemKind;
  name: string | null;
  mediaType: string;
  size: number;
  sha256: string;
  createdAt: string;
}

export type ItemIdView = Pick<ItemView, 'id' | 'externalId'>;

export const TEXT_MEDIA_TYPE = 'text/plain; charset=utf-8';

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A text item: its hash is that of its UTF-8 bytes, so a file with the same bytes hashes alike. */
export function prepareText(externalId: string, text: string): PreparedItem {
  const bytes = Buffer.from(text, 'utf8');
  return {
    externalId,
    kind: 'text',
    name: null,
    mediaType: TEXT_MEDIA_TYPE,
    size: bytes.length,
    sha256: sha256Hex(bytes),
    text,
    content: null,
  };
}

export function prepareFile(
  externalId: string,
  name: string,
  mediaType: string,
  content: Buffer,
): PreparedItem {
  return {
    externalId,
    kind: 'file',
    name,
    mediaType,
    size: content.length,
    sha256: sha256Hex(content),
    text: null,
    content,
  };
}

function view(item: DatasetItem): ItemView {
  return {
    id: item.id,
    externalId: item.externalId,
    kind: item.kind,
    name: item.name ?? null,
    mediaType: item.mediaType,
    size: item.size,
    sha256: item.sha256,
    createdAt: item.createdAt.toISOString(),
  };
}

const itemNotFound = () => new DomainError('NOT_FOUND', 'Item not found.');
const COLUMNS = 11;

/**
 * Stores a batch of items, answering per item (see `batchResults` in core). One transaction: `insert … on conflict
 * do nothing` makes a batch racing another over the same externalIds wait for it and then see its rows, so each id
 * is created exactly once and the loser answers `exists` (same bytes) or `rejected` (other bytes) — never a
 * duplicate, never a unique-violation 500. Rows go in sorted by externalId, so two such batches lock in the same
 * order and cannot deadlock. The dataset's `itemCount` moves in the same transaction.
 */
export async function addItems(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  ref: DatasetRef,
  items: PreparedItem[],
): Promise<BatchResults> {
  const dataset = await findDataset(em, ref);
  if (items.length === 0) return { results: [], created: 0, existing: 0, rejected: 0 };
  const now = deps.clock();
  const fresh = entriesToInsert(items);
  try {
    return await em.transactional(async (tem) => {
      const bindings: unknown[] = [];
      for (const item of fresh) {
        bindings.push(
          randomUUID(),
          dataset.id,
          item.externalId,
          item.kind,
          item.name,
          item.mediaType,
          item.size,
          item.sha256,
          item.text,
          item.content,
          now,
        );
      }
      const placeholders = fresh.map(() => `(${new Array(COLUMNS).fill('?').join(', ')})`).join(', ');
      const inserted = await tem.execute<{ id: string; external_id: string; sha256: string }[]>(
        `insert into dataset_items (id, dataset_id, external_id, kind, name, media_type, size, sha256, text, content, created_at)
         values ${placeholders}
         on conflict (dataset_id, external_id) do nothing
         returning id, external_id, sha256`,
        bindings,
        'all',
      );
      const stored = new Map<string, StoredItem>();
      for (const row of inserted)
        stored.set(row.external_id, { id: row.id, sha256: row.sha256, insertedNow: true });
      const others = fresh.filter((item) => !stored.has(item.externalId)).map((item) => item.externalId);
      if (others.length > 0) {
        const existing = await tem.execute<{ id: string; external_id: string; sha256: string }[]>(
          'select id, external_id, sha256 from dataset_items where dataset_id = ? and external_id in (?)',
          [dataset.id, others],
          'all',
        );
        for (const row of existing)
          stored.set(row.external_id, { id: row.id, sha256: row.sha256, insertedNow: false });
      }
      if (inserted.length > 0) {
        await tem.execute('update datasets set item_count = item_count + ? where id = ?', [
          inserted.length,
          dataset.id,
        ]);
      }
      const results = batchResults(items, stored);
      if (results.created > 0) {
        recordAudit(tem, actor, {
          action: 'dataset.items_added',
          organizationId: ref.orgId,
          target: { type: 'dataset', id: dataset.id },
          metadata: { created: results.created, existing: results.existing, rejected: results.rejected },
          at: now,
        });
      }
      return results;
    });
  } catch (error) {
    // The dataset was deleted while this batch was on its way.
    if (error instanceof ForeignKeyConstraintViolationException) throw datasetNotFound();
    throw error;
  }
}

/** Oldest first, keyset-paginated; `externalIds` lists only ids (what a resuming upload needs) at a larger page. */
export async function listItems(
  em: EntityManager,
  ref: DatasetRef,
  page: { limit: number; cursor?: string | undefined; fields: 'all' | 'externalId' },
): Promise<Page<ItemView | ItemIdView>> {
  const position = pagePosition(page.cursor);
  const dataset = await findDataset(em, ref);
  const options = { orderBy: { createdAt: 'asc', id: 'asc' }, limit: page.limit + 1 } as const;
  const where = { dataset: dataset.id, ...afterPosition(position) };
  if (page.fields === 'externalId') {
    const rows = await em.find(DatasetItem, where, { ...options, fields: ['id', 'externalId', 'createdAt'] });
    return {
      items: rows.slice(0, page.limit).map((r) => ({ id: r.id, externalId: r.externalId })),
      nextCursor: nextCursorOf(rows, page.limit),
    };
  }
  const rows = await em.find(DatasetItem, where, options);
  return { items: rows.slice(0, page.limit).map(view), nextCursor: nextCursorOf(rows, page.limit) };
}

async function findItem(em: EntityManager, ref: DatasetRef, itemId: string): Promise<DatasetItem> {
  const dataset = await findDataset(em, ref);
  const item = await em.findOne(DatasetItem, { id: itemId, dataset: dataset.id });
  if (!item) throw itemNotFound();
  return item;
}

/** An item's description, with its text for a text item (a file's bytes are never part of the answer). */
export async function getItem(
  em: EntityManager,
  ref: DatasetRef,
  itemId: string,
): Promise<ItemView & { text: string | null }> {
  const item = await findItem(em, ref, itemId);
  const text = item.kind === 'text' ? await item.text?.load() : null;
  return { ...view(item), text: text ?? null };
}

export async function deleteItem(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  ref: DatasetRef,
  itemId: string,
): Promise<void> {
  const item = await findItem(em, ref, itemId);
  await em.transactional(async (tem) => {
    const deleted = await tem.execute<{ id: string }[]>(
      'delete from dataset_items where id = ? and dataset_id = ? returning id',
      [item.id, ref.datasetId],
      'all',
    );
    // A concurrent delete of the same item got there first: the count must move once.
    if (deleted.length === 0) throw itemNotFound();
    await tem.execute('update datasets set item_count = item_count - 1 where id = ?', [ref.datasetId]);
    recordAudit(tem, actor, {
      action: 'dataset.item_deleted',
      organizationId: ref.orgId,
      target: { type: 'dataset', id: ref.datasetId },
      metadata: { itemId: item.id, externalId: item.externalId },
      at: deps.clock(),
    });
  });
}
