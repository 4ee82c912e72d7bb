/** What every `crowdee` command shares: usage errors, output, the client, the organization to act on. */
import { readFileSync, statSync } from 'node:fs';
import { CrowdeeClient } from '../client.ts';
import type { DatasetRef } from '../rest.ts';

/** A mistake in how the CLI was called: exit code 2 and a pointer to --help. */
export class UsageError extends Error {}

/** Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

export interface GlobalFlags {
  'api-key-file'?: string | undefined;
  'base-url'?: string | undefined;
}

/** Human text, or one JSON document for scripts (`--json`); always on stdout, progress goes to stderr. */
export function out(json: boolean, human: string, data: unknown): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

function readKeyFile(path: string): string {
  try {
    const mode = statSync(path).mode;
    if (mode & 0o077) {
      process.stderr.write(`warning: ${path} is readable by other users; chmod 600 it\n`);
    }
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`cannot read --api-key-file ${path}: ${(error as Error).message}`);
  }
}

export function makeClient(values: GlobalFlags, maxConcurrent = 8): CrowdeeClient {
  return new CrowdeeClient({
    ...(values['api-key-file'] ? { apiKey: readKeyFile(values['api-key-file']) } : {}),
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    throttle: { maxConcurrent },
  });
}

/**
 * The organization a command acts on: `--org`, or else the only one the key reaches. A key that reaches
 * several (or none) gets a usage error listing them, never a guess.
 */
export async function resolveOrg(client: CrowdeeClient, org: string | undefined): Promise<string> {
  if (org) return org;
  const me = await client.rest.me();
  const [only, ...others] = me.organizations;
  if (only && others.length === 0) return only.id;
  if (!only) throw new UsageError('the key reaches no organization, so there is no --org to default to');
  throw new UsageError(
    `the key reaches ${me.organizations.length} organizations: pass --org ID, one of\n${me.organizations
      .map((o) => `  ${o.id}  ${o.name}`)
      .join('\n')}`,
  );
}

/** A positive integer flag, or a usage error naming it. */
export function intFlag(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be 1–${max}`);
  return n;
}

/** Quotes an argument for a POSIX shell, so a printed command can be pasted back as it is. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export interface DatasetFlags {
  org?: string | undefined;
  project?: string | undefined;
  dataset?: string | undefined;
}

/**
 * Where `--dataset` lives. Routes name the organization and project too; with `--project` given nothing is
 * looked up, else the dataset is found by its id within the organization (the API's org-level dataset route).
 */
export async function resolveDataset(client: CrowdeeClient, flags: DatasetFlags): Promise<DatasetRef> {
  if (!flags.dataset) throw new UsageError('needs --dataset ID');
  const orgId = await resolveOrg(client, flags.org);
  if (flags.project) return { orgId, projectId: flags.project, datasetId: flags.dataset };
  const dataset = await client.rest.datasets.find(orgId, flags.dataset);
  return { orgId, projectId: dataset.projectId, datasetId: dataset.id };
}
