import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';
import { Project } from './project.entity.ts';

/**
 * A named collection of items in a project. The organization is stored beside the project so every lookup can be
 * confined to the caller's organization in one indexed condition (another tenant's dataset answers like a missing
 * one). `itemCount` is kept up to date in the same transaction as every upload and delete, so listings never count.
 */
export const Dataset = defineEntity({
  name: 'Dataset',
  tableName: 'datasets',
  properties: {
    id: p.uuid().primary(),
    organization: () => p.manyToOne(Organization).deleteRule('cascade').index(),
    project: () => p.manyToOne(Project).deleteRule('cascade'),
    name: p.string().length(100),
    description: p.string().length(2000).nullable(),
    /** The user who created it (a plain id: the dataset outlives their account). */
    createdBy: p.uuid(),
    createdAt: p.datetime(),
    itemCount: p.integer().default(0),
  },
  uniques: [{ properties: ['project', 'name'], name: 'datasets_project_name_unique' }],
  indexes: [{ properties: ['project', 'createdAt', 'id'], name: 'datasets_project_time_idx' }],
});
export type Dataset = InferEntity<typeof Dataset>;
