import { z } from 'zod';
import { actorOf } from '../context.ts';
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  updateProject,
} from '../services/projects.service.ts';
import { orgProcedure, router } from '../trpc.ts';
import { nameSchema, okOut, pageInput, projectOut, uuid } from './schemas.ts';

const descriptionSchema = z.string().trim().max(2000).nullable().optional();
const tags = ['projects'];

export const projectsRouter = router({
  list: orgProcedure('projects:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/orgs/{orgId}/projects',
        protect: true,
        tags,
        summary: 'List projects',
        description: 'The organization’s projects, oldest first, a page at a time (`limit`, `offset`).',
      },
    })
    .input(z.object(pageInput))
    .output(
      z
        .object({ items: z.array(projectOut), total: z.number().int() })
        .meta({ id: 'ProjectPage', description: 'One page of projects and how many there are in all' }),
    )
    .query(({ ctx, input }) => listProjects(ctx.em, ctx.org.id, input)),

  create: orgProcedure('projects:write')
    .meta({
      openapi: {
        method: 'POST',
        path: '/orgs/{orgId}/projects',
        protect: true,
        tags,
        summary: 'Create a project',
        successDescription: 'The new project',
        description:
          'Needs the member role or higher. Names are unique within an organization (409 otherwise).',
      },
    })
    .input(z.object({ name: nameSchema(100), description: descriptionSchema }))
    .output(projectOut)
    .mutation(({ ctx, input }) => createProject(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id, input)),

  get: orgProcedure('projects:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/orgs/{orgId}/projects/{projectId}',
        protect: true,
        tags,
        summary: 'Get a project',
        description: 'Another organization’s project answers 404, exactly like a missing one.',
      },
    })
    .input(z.object({ projectId: uuid }))
    .output(projectOut)
    .query(({ ctx, input }) => getProject(ctx.em, ctx.org.id, input.projectId)),

  update: orgProcedure('projects:write')
    .meta({
      openapi: {
        method: 'PATCH',
        path: '/orgs/{orgId}/projects/{projectId}',
        protect: true,
        tags,
        summary: 'Update a project',
        description: 'Changes the name, the description, or both; needs the member role or higher.',
      },
    })
    .input(z.object({ projectId: uuid, name: nameSchema(100).optional(), description: descriptionSchema }))
    .output(projectOut)
    .mutation(({ ctx, input }) =>
      updateProject(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id, input.projectId, {
        name: input.name,
        description: input.description,
      }),
    ),

  delete: orgProcedure('projects:delete')
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/orgs/{orgId}/projects/{projectId}',
        protect: true,
        tags,
        summary: 'Delete a project',
        description: 'Needs the admin role or higher. The deletion is recorded in the audit log.',
      },
    })
    .input(z.object({ projectId: uuid }))
    .output(okOut)
    .mutation(async ({ ctx, input }) => {
      await deleteProject(ctx.deps, ctx.em, actorOf(ctx), ctx.org.id, input.projectId);
      return { ok: true as const };
    }),
});
