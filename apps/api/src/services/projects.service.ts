import { randomUUID } from 'node:crypto';
import { DomainError } from '@crowdee/core';
import { Project } from '@crowdee/db';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';
import { type Actor, recordAudit } from './audit.service.ts';

export interface ProjectView {
  id: string;
  orgId: string;
  name: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

function view(p: Project, orgId: string): ProjectView {
  return {
    id: p.id,
    orgId,
    name: p.name,
    description: p.description ?? null,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

// Another organization's project and a missing one are the same answer: ids leak nothing across tenants.
const projectNotFound = () => new DomainError('NOT_FOUND', 'Project not found.');
const nameTaken = () =>
  new DomainError('CONFLICT', 'A project with this name already exists in the organization.');

async function findInOrg(em: EntityManager, orgId: string, projectId: string): Promise<Project> {
  const project = await em.findOne(Project, { id: projectId, organization: orgId });
  if (!project) throw projectNotFound();
  return project;
}

async function flushUnique(em: EntityManager): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken();
    throw error;
  }
}

export async function listProjects(
  em: EntityManager,
  orgId: string,
  page: { limit: number; offset: number },
): Promise<{ items: ProjectView[]; total: number }> {
  const [rows, total] = await em.findAndCount(
    Project,
    { organization: orgId },
    { orderBy: { createdAt: 'asc', id: 'asc' }, limit: page.limit, offset: page.offset },
  );
  return { items: rows.map((p) => view(p, orgId)), total };
}

export async function getProject(em: EntityManager, orgId: string, projectId: string): Promise<ProjectView> {
  return view(await findInOrg(em, orgId, projectId), orgId);
}

export async function createProject(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  input: { name: string; description?: string | null | undefined },
): Promise<ProjectView> {
  const now = deps.clock();
  const project = em.create(Project, {
    id: randomUUID(),
    organization: orgId,
    name: input.name,
    description: input.description ?? null,
    createdAt: now,
    updatedAt: now,
  });
  recordAudit(em, actor, {
    action: 'project.created',
    organizationId: orgId,
    target: { type: 'project', id: project.id },
    metadata: { name: input.name },
    at: now,
  });
  await flushUnique(em);
  return view(project, orgId);
}

export async function updateProject(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  projectId: string,
  patch: { name?: string | undefined; description?: string | null | undefined },
): Promise<ProjectView> {
  const project = await findInOrg(em, orgId, projectId);
  if (patch.name !== undefined) project.name = patch.name;
  if (patch.description !== undefined) project.description = patch.description;
  project.updatedAt = deps.clock();
  recordAudit(em, actor, {
    action: 'project.updated',
    organizationId: orgId,
    target: { type: 'project', id: projectId },
    metadata: { fields: Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined) },
    at: project.updatedAt,
  });
  await flushUnique(em);
  return view(project, orgId);
}

export async function deleteProject(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  orgId: string,
  projectId: string,
): Promise<void> {
  const project = await findInOrg(em, orgId, projectId);
  em.remove(project);
  recordAudit(em, actor, {
    action: 'project.deleted',
    organizationId: orgId,
    target: { type: 'project', id: projectId },
    metadata: { name: project.name },
    at: deps.clock(),
  });
  await em.flush();
}
