import { randomUUID } from 'node:crypto';
import { DomainError, decodePageCursor, encodePageCursor, type PagePosition } from '@crowdee/core';
import { Dataset, Project } from '@crowdee/db';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../context.ts';
import { type Actor, recordAudit } from './audit.service.ts';

export interface DatasetView {
  id: string;
  orgId: string;
  projectId: string;
  name: string;
  description: string | null;
  itemCount: number;
  createdBy: string;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Where a dataset lives: every lookup names the organization, so another tenant's ids answer like missing ones. */
export interface DatasetRef {
  orgId: string;
  projectId: string;
  datasetId: string;
}

function view(d: Dataset, orgId: string, projectId: string): DatasetView {
  return {
    id: d.id,
    orgId,
    projectId,
    name: d.name,
    description: d.description ?? null,
    itemCount: d.itemCount,
    createdBy: d.createdBy,
    createdAt: d.createdAt.toISOString(),
  };
}

export const datasetNotFound = () => new DomainError('NOT_FOUND', 'Dataset not found.');
const projectNotFound = () => new DomainError('NOT_FOUND', 'Project not found.');
const nameTaken = () =>
  new DomainError('CONFLICT', 'A dataset with this name already exists in the project.');
export const invalidCursor = () =>
  new DomainError('VALIDATION_FAILED', 'The cursor is not one this listing gave out.', {
    fieldErrors: [{ path: 'cursor', message: 'Not a cursor of this listing: start again without one.' }],
  });

/** The position after which a page starts; a cursor that is not ours is a 400, never a query. */
export function pagePosition(cursor: string | undefined): PagePosition | null {
  if (cursor === undefined || cursor === '') return null;
  const position = decodePageCursor(cursor);
  if (!position) throw invalidCursor();
  return position;
}

/** Keyset condition "after `position` in (createdAt, id) order": stable while rows are added concurrently. */
export function afterPosition(position: PagePosition | null): Record<string, unknown> {
  if (!position) return {};
  return {
    $or: [
      { createdAt: { $gt: position.createdAt } },
      { createdAt: position.createdAt, id: { $gt: position.id } },
    ],
  };
}

export function nextCursorOf<T extends { createdAt: Date; id: string }>(
  rows: T[],
  limit: number,
): string | null {
  const last = rows[limit - 1];
  return rows.length > limit && last ? encodePageCursor({ createdAt: last.createdAt, id: last.id }) : null;
}

/** The dataset if it is in this organization and project; NOT_FOUND otherwise (other tenants' ids included). */
export async function findDataset(em: EntityManager, ref: DatasetRef): Promise<Dataset> {
  const dataset = await em.findOne(Dataset, {
    id: ref.datasetId,
    organization: ref.orgId,
    project: ref.projectId,
  });
  if (!dataset) throw datasetNotFound();
  return dataset;
}

export async function createDataset(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  where: { orgId: string; projectId: string },
  input: { name: string; description?: string | null | undefined },
): Promise<DatasetView> {
  const project = await em.findOne(
    Project,
    { id: where.projectId, organization: where.orgId },
    { fields: ['id'] },
  );
  if (!project) throw projectNotFound();
  // Every caller that reaches a permission check acts for a user (a key for its creator).
  if (actor.userId === null) throw new DomainError('UNAUTHENTICATED');
  const now = deps.clock();
  const dataset = em.create(Dataset, {
    id: randomUUID(),
    organization: where.orgId,
    project: where.projectId,
    name: input.name,
    description: input.description ?? null,
    createdBy: actor.userId,
    createdAt: now,
    itemCount: 0,
  });
  recordAudit(em, actor, {
    action: 'dataset.created',
    organizationId: where.orgId,
    target: { type: 'dataset', id: dataset.id },
    metadata: { name: input.name, projectId: where.projectId },
    at: now,
  });
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken();
    throw error;
  }
  return view(dataset, where.orgId, where.projectId);
}

/** Oldest first, keyset-paginated. A project of another organization lists as missing. */
export async function listDatasets(
  em: EntityManager,
  where: { orgId: string; projectId: string },
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<DatasetView>> {
  const position = pagePosition(page.cursor);
  const project = await em.findOne(
    Project,
    { id: where.projectId, organization: where.orgId },
    { fields: ['id'] },
  );
  if (!project) throw projectNotFound();
  const rows = await em.find(
    Dataset,
    { organization: where.orgId, project: where.projectId, ...afterPosition(position) },
    { orderBy: { createdAt: 'asc', id: 'asc' }, limit: page.limit + 1 },
  );
  return {
    items: rows.slice(0, page.limit).map((d) => view(d, where.orgId, where.projectId)),
    nextCursor: nextCursorOf(rows, page.limit),
  };
}

export async function getDataset(em: EntityManager, ref: DatasetRef): Promise<DatasetView> {
  return view(await findDataset(em, ref), ref.orgId, ref.projectId);
}

/** A dataset found by id within an organization alone: scripts that hold only a dataset id learn its project. */
export async function getDatasetInOrg(
  em: EntityManager,
  orgId: string,
  datasetId: string,
): Promise<DatasetView> {
  const dataset = await em.findOne(Dataset, { id: datasetId, organization: orgId });
  if (!dataset) throw datasetNotFound();
  return view(dataset, orgId, dataset.project.id);
}

/** Deletes the dataset and, by cascade, its items (and whatever else hangs off it, such as runs). */
export async function deleteDataset(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  ref: DatasetRef,
): Promise<void> {
  const dataset = await findDataset(em, ref);
  recordAudit(em, actor, {
    action: 'dataset.deleted',
    organizationId: ref.orgId,
    target: { type: 'dataset', id: dataset.id },
    metadata: { name: dataset.name, projectId: ref.projectId, itemCount: dataset.itemCount },
    at: deps.clock(),
  });
  em.remove(dataset);
  await em.flush();
}
