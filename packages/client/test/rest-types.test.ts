/**
 * The REST types in `src/rest-types.ts` are written out (the published declarations cannot carry the API's
 * router), so these checks pin each one to what the router really accepts and answers. They fail at compile time
 * (`pnpm typecheck`, and vitest's typecheck of this file) the moment the API changes a shape.
 */
import type { AppRouter } from '@crowdee/api';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  ApiStatus,
  CursorPage,
  Dataset,
  Item,
  ItemDetail,
  ItemId,
  Me,
  NewDataset,
  NewProject,
  PipelineSpec,
  Project,
  ProjectPage,
  ProjectPatch,
  Run,
  RunResult,
  UploadSummary,
} from '../src/rest-types.ts';

type Outputs = inferRouterOutputs<AppRouter>;
type Inputs = inferRouterInputs<AppRouter>;

describe('REST types match the API router', () => {
  it('keys, projects and status', () => {
    expectTypeOf<Me>().toEqualTypeOf<Outputs['keys']['current']>();
    expectTypeOf<ApiStatus>().toEqualTypeOf<Outputs['meta']['status']>();
    expectTypeOf<Project>().toEqualTypeOf<Outputs['projects']['get']>();
    expectTypeOf<ProjectPage>().toEqualTypeOf<Outputs['projects']['list']>();
    expectTypeOf<NewProject>().toEqualTypeOf<Omit<Inputs['projects']['create'], 'orgId'>>();
    expectTypeOf<ProjectPatch>().toEqualTypeOf<Omit<Inputs['projects']['update'], 'orgId' | 'projectId'>>();
  });

  it('runs', () => {
    expectTypeOf<Run>().toEqualTypeOf<Outputs['runs']['get']>();
    expectTypeOf<Run>().toEqualTypeOf<Outputs['runs']['start']>();
    expectTypeOf<CursorPage<Run>>().toEqualTypeOf<Outputs['runs']['list']>();
    expectTypeOf<CursorPage<RunResult>>().toEqualTypeOf<Outputs['runs']['results']>();
    expectTypeOf<'default' | PipelineSpec | undefined>().toEqualTypeOf<Inputs['runs']['start']['pipeline']>();
  });

  it('datasets and items', () => {
    expectTypeOf<Dataset>().toEqualTypeOf<Outputs['datasets']['create']>();
    expectTypeOf<Dataset>().toEqualTypeOf<Outputs['datasets']['find']>();
    expectTypeOf<CursorPage<Dataset>>().toEqualTypeOf<Outputs['datasets']['list']>();
    expectTypeOf<NewDataset>().toEqualTypeOf<Omit<Inputs['datasets']['create'], 'orgId' | 'projectId'>>();
    expectTypeOf<UploadSummary>().toEqualTypeOf<Outputs['items']['add']>();
    expectTypeOf<UploadSummary>().toEqualTypeOf<Outputs['items']['upload']>();
    expectTypeOf<ItemDetail>().toEqualTypeOf<Outputs['items']['get']>();
    expectTypeOf<CursorPage<Item | ItemId>>().toEqualTypeOf<Outputs['items']['list']>();
  });
});
