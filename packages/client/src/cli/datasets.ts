/** `crowdee datasets create|list|get`. */
import type { CrowdeeClient } from '../client.ts';
import type { Dataset } from '../rest-types.ts';
import { out, UsageError } from './common.ts';

function describe(d: Dataset): string {
  return `${d.id}  ${d.name}  (${d.itemCount} item(s), project ${d.projectId})${d.description ? ` — ${d.description}` : ''}`;
}

export async function createDataset(
  client: CrowdeeClient,
  orgId: string,
  projectId: string | undefined,
  name: string | undefined,
  description: string | undefined,
  json: boolean,
): Promise<number> {
  if (!projectId || !name) throw new UsageError('datasets create needs --project ID and a NAME');
  const dataset = await client.rest.datasets.create(orgId, projectId, {
    name,
    ...(description !== undefined ? { description } : {}),
  });
  out(json, `Created dataset ${dataset.id} "${dataset.name}" in project ${dataset.projectId}.`, dataset);
  return 0;
}

export async function listDatasets(
  client: CrowdeeClient,
  orgId: string,
  projectId: string | undefined,
  json: boolean,
): Promise<number> {
  if (!projectId) throw new UsageError('datasets list needs --project ID');
  const all: Dataset[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.rest.datasets.list(orgId, projectId, {
      limit: 100,
      cursor: cursor ?? undefined,
    });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  out(json, [...all.map(describe), `${all.length} dataset(s)`].join('\n'), { items: all });
  return 0;
}
