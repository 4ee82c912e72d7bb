import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Dataset } from './dataset.entity.ts';

export const DATASET_ITEM_KINDS = ['file', 'text'] as const;
export type DatasetItemKind = (typeof DATASET_ITEM_KINDS)[number];

/**
 * One item of a dataset: a file (its bytes in `content`) or a text (in `text`). `externalId` is the caller's own
 * name for it, unique per dataset, which makes uploads safely retryable. `sha256` is computed by the server from
 * the bytes (a text's UTF-8 bytes). The content is lazy: listings and lookups never load the bytes.
 */
export const DatasetItem = defineEntity({
  name: 'DatasetItem',
  tableName: 'dataset_items',
  properties: {
    id: p.uuid().primary(),
    dataset: () => p.manyToOne(Dataset).deleteRule('cascade'),
    externalId: p.string().length(200),
    kind: p.enum([...DATASET_ITEM_KINDS]),
    /** The file's name as uploaded; null for a text item. */
    name: p.string().length(255).nullable(),
    mediaType: p.string().length(255),
    size: p.integer(),
    sha256: p.string().length(64),
    text: p.text().nullable().lazy(),
    content: p.blob().nullable().lazy(),
    createdAt: p.datetime(),
  },
  uniques: [{ properties: ['dataset', 'externalId'], name: 'dataset_items_dataset_external_id_unique' }],
  indexes: [
    { properties: ['dataset', 'createdAt', 'id'], name: 'dataset_items_dataset_time_idx' },
    { properties: ['dataset', 'sha256'], name: 'dataset_items_dataset_sha256_idx' },
  ],
});
export type DatasetItem = InferEntity<typeof DatasetItem>;
