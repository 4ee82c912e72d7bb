import { randomUUID } from 'node:crypto';
import { CrowdeeApiError, type FieldError } from './errors.ts';
import type {
  ApiStatus,
  CursorPage,
  Dataset,
  FileItem,
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
  RunStatus,
  TextItem,
  UploadSummary,
  Verdict,
} from './rest-types.ts';
import { sleep } from './throttle/abortable.ts';
import type { FetchFunction } from './throttle/index.ts';

export interface CallOptions {
  signal?: AbortSignal;
}

/** For POSTs: the server answers a repeat of the same key and body with the first answer, so retries are safe. */
export interface IdempotentCallOptions extends CallOptions {
  /** Default: a new random key per call (the throttle's own retries of that call reuse it). */
  idempotencyKey?: string;
}

interface RequestOptions extends CallOptions {
  body?: unknown;
  form?: FormData;
  anonymous?: boolean;
  accept?: string;
  headers?: Record<string, string>;
  /** Answer a 304 instead of throwing (conditional GETs). */
  notModified?: boolean;
}

interface Problem {
  code?: string;
  detail?: string;
  title?: string;
  errors?: FieldError[];
  retryAfter?: number;
  requiredRole?: string;
  requiredPermission?: string;
}

/** Typed calls for the REST routes at /api/v1 (what scripts use), over a (throttled) fetch. */
export class RestClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: FetchFunction,
    private readonly authorization: () => string,
  ) {}

  /**
   * Sends one call and answers its response once it is a success (or a 304 when `notModified` is allowed);
   * anything else becomes a `CrowdeeApiError` with the server's code.
   */
  private async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      accept: options.accept ?? 'application/json',
      ...options.headers,
    };
    if (!options.anonymous) headers.authorization = this.authorization();
    let body: BodyInit | undefined;
    if (options.form !== undefined)
      body = options.form; // fetch writes the multipart boundary itself
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await this.fetchFn(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.ok || (response.status === 304 && options.notModified)) return response;
    const text = await response.text();
    let problem: Problem = {};
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      // Not JSON (a proxy's error page): the status is all we know.
    }
    const retryHeader = Number(response.headers.get('retry-after'));
    throw new CrowdeeApiError({
      status: response.status,
      code: problem.code ?? `HTTP_${response.status}`,
      message: problem.detail ?? problem.title ?? `HTTP ${response.status}`,
      method,
      path,
      fieldErrors: problem.errors ?? [],
      retryAfter:
        problem.retryAfter ?? (Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined),
      requiredRole: problem.requiredRole,
      requiredPermission: problem.requiredPermission,
    });
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const text = await (await this.send(method, path, options)).text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The calling key, its creator, and its effective role in each organization it can act on. */
  me(options?: CallOptions): Promise<Me> {
    return this.request('GET', '/me', options);
  }

  status(options?: CallOptions): Promise<ApiStatus> {
    return this.request('GET', '/status', { ...options, anonymous: true });
  }

  readonly projects = {
    list: (
      orgId: string,
      page: { limit?: number; offset?: number } = {},
      options?: CallOptions,
    ): Promise<ProjectPage> => {
      const query = new URLSearchParams();
      if (page.limit !== undefined) query.set('limit', String(page.limit));
      if (page.offset !== undefined) query.set('offset', String(page.offset));
      const qs = query.size > 0 ? `?${query}` : '';
      return this.request('GET', `/orgs/${encodeURIComponent(orgId)}/projects${qs}`, options);
    },
    get: (orgId: string, projectId: string, options?: CallOptions): Promise<Project> =>
      this.request(
        'GET',
        `/orgs/${encodeURIComponent(orgId)}/projects/${encodeURIComponent(projectId)}`,
        options,
      ),
    create: (orgId: string, project: NewProject, options?: CallOptions): Promise<Project> =>
      this.request('POST', `/orgs/${encodeURIComponent(orgId)}/projects`, { ...options, body: project }),
    update: (
      orgId: string,
      projectId: string,
      patch: ProjectPatch,
      options?: CallOptions,
    ): Promise<Project> =>
      this.request('PATCH', `/orgs/${encodeURIComponent(orgId)}/projects/${encodeURIComponent(projectId)}`, {
        ...options,
        body: patch,
      }),
    delete: (orgId: string, projectId: string, options?: CallOptions): Promise<{ ok: true }> =>
      this.request(
        'DELETE',
        `/orgs/${encodeURIComponent(orgId)}/projects/${encodeURIComponent(projectId)}`,
        options,
      ),
  };

  readonly keys = {
    /** Revokes the calling key at once: for a holder who finds it exposed. */
    revokeCurrent: (options?: CallOptions): Promise<{ ok: true }> =>
      this.request('DELETE', '/keys/current', options),
    /** Public: report keys found where they should not be. Answers only how many were revoked. */
    revokeLeaked: (keys: string[], options?: CallOptions): Promise<{ revoked: number }> =>
      this.request('POST', '/keys/revoke-leaked', { ...options, body: { keys }, anonymous: true }),
  };

  readonly datasets = {
    create: (
      orgId: string,
      projectId: string,
      dataset: NewDataset,
      options?: IdempotentCallOptions,
    ): Promise<Dataset> =>
      this.request('POST', datasetsPath({ orgId, projectId }), withIdempotency(options, { body: dataset })),
    list: (
      orgId: string,
      projectId: string,
      page: PageRequest = {},
      options?: CallOptions,
    ): Promise<CursorPage<Dataset>> =>
      this.request('GET', `${datasetsPath({ orgId, projectId })}${pageQuery(page)}`, options),
    get: (ref: DatasetRef, options?: CallOptions): Promise<Dataset> =>
      this.request('GET', datasetPath(ref), options),
    /** A dataset by its id alone within an organization: how the CLI learns its project. */
    find: (orgId: string, datasetId: string, options?: CallOptions): Promise<Dataset> =>
      this.request(
        'GET',
        `/orgs/${encodeURIComponent(orgId)}/datasets/${encodeURIComponent(datasetId)}`,
        options,
      ),
    delete: (ref: DatasetRef, options?: CallOptions): Promise<{ ok: true }> =>
      this.request('DELETE', datasetPath(ref), options),
  };

  readonly items = {
    /** Up to 1,000 text items in one request, with a result per item. */
    addText: (ref: DatasetRef, items: TextItem[], options?: IdempotentCallOptions): Promise<UploadSummary> =>
      this.request('POST', `${datasetPath(ref)}/items`, withIdempotency(options, { body: { items } })),
    /**
     * Up to 100 files in one `multipart/form-data` request, with a result per file. A file whose externalId
     * differs from its name is preceded by a field `externalId:<n>` (n counts the batch's files from 0).
     */
    uploadFiles: (
      ref: DatasetRef,
      files: FileItem[],
      options?: IdempotentCallOptions,
    ): Promise<UploadSummary> => {
      const form = new FormData();
      files.forEach((file, index) => {
        // FormData percent-encodes `"`, CR and LF in a part's filename, so such a name cannot carry the id.
        const id = file.externalId ?? file.name;
        if (id !== file.name || /["\r\n]/.test(file.name)) form.append(`externalId:${index}`, id);
        const type = file.mediaType ?? 'application/octet-stream';
        const blob =
          file.content instanceof Blob ? file.content : new Blob([new Uint8Array(file.content)], { type });
        form.append('file', blob.type === type ? blob : new Blob([blob], { type }), file.name);
      });
      return this.request('POST', `${datasetPath(ref)}/files`, withIdempotency(options, { form }));
    },
    list: (ref: DatasetRef, page: PageRequest = {}, options?: CallOptions): Promise<CursorPage<Item>> =>
      this.request('GET', `${datasetPath(ref)}/items${pageQuery(page)}`, options),
    /** Every externalId in the dataset, a large page at a time: what a resumed upload skips. */
    listExternalIds: async (ref: DatasetRef, options?: CallOptions): Promise<Set<string>> => {
      const ids = new Set<string>();
      let cursor: string | null = null;
      do {
        const query = pageQuery({ limit: ITEM_ID_PAGE_MAX, cursor: cursor ?? undefined });
        const page: CursorPage<ItemId> = await this.request(
          'GET',
          `${datasetPath(ref)}/items${query}&fields=externalId`,
          options,
        );
        for (const item of page.items) ids.add(item.externalId);
        cursor = page.nextCursor;
      } while (cursor !== null);
      return ids;
    },
    get: (ref: DatasetRef, itemId: string, options?: CallOptions): Promise<ItemDetail> =>
      this.request('GET', `${datasetPath(ref)}/items/${encodeURIComponent(itemId)}`, options),
    delete: (ref: DatasetRef, itemId: string, options?: CallOptions): Promise<{ ok: true }> =>
      this.request('DELETE', `${datasetPath(ref)}/items/${encodeURIComponent(itemId)}`, options),
  };

  readonly runs = {
    start: (
      ref: DatasetRef,
      pipeline: 'default' | PipelineSpec = 'default',
      options?: IdempotentCallOptions,
    ): Promise<Run> =>
      this.request('POST', `${datasetPath(ref)}/runs`, withIdempotency(options, { body: { pipeline } })),
    list: (ref: DatasetRef, page: PageRequest = {}, options?: CallOptions): Promise<CursorPage<Run>> =>
      this.request('GET', `${datasetPath(ref)}/runs${pageQuery(page)}`, options),
    /**
     * One poll. With the `etag` of the last answer, an unchanged run answers `{ notModified: true }` (a 304,
     * which costs no rate-limit unit). `retryAfterSeconds` is the server's hint for the next poll.
     */
    poll: async (ref: DatasetRef, runId: string, etag?: string, options?: CallOptions): Promise<RunPoll> => {
      const response = await this.send('GET', runPath(ref, runId), {
        ...options,
        ...(etag ? { headers: { 'if-none-match': etag } } : {}),
        notModified: true,
      });
      const retry = Number(response.headers.get('retry-after'));
      const retryAfterSeconds = Number.isFinite(retry) && retry >= 0 ? retry : undefined;
      const newEtag = response.headers.get('etag') ?? etag;
      if (response.status === 304) {
        await response.body?.cancel();
        return { notModified: true, etag: newEtag, retryAfterSeconds };
      }
      return { notModified: false, run: (await response.json()) as Run, etag: newEtag, retryAfterSeconds };
    },
    get: async (ref: DatasetRef, runId: string, options?: CallOptions): Promise<Run> => {
      const poll = await this.runs.poll(ref, runId, undefined, options);
      if (poll.notModified) throw new Error('unconditional GET answered 304');
      return poll.run;
    },
    /**
     * Polls until the run has finished (succeeded, failed or cancelled), conditionally (ETag) and as often as
     * the server's `Retry-After` suggests; `onProgress` sees every change. Answers the final run.
     */
    wait: async (
      ref: DatasetRef,
      runId: string,
      options: CallOptions & { onProgress?: (run: Run) => void; defaultIntervalMs?: number } = {},
    ): Promise<Run> => {
      let etag: string | undefined;
      let run: Run | undefined;
      for (;;) {
        const poll = await this.runs.poll(ref, runId, etag, options);
        etag = poll.etag;
        if (!poll.notModified) {
          run = poll.run;
          options.onProgress?.(run);
        }
        if (run && !RUN_ACTIVE.has(run.status)) return run;
        const waitMs =
          poll.retryAfterSeconds !== undefined
            ? poll.retryAfterSeconds * 1000
            : (options.defaultIntervalMs ?? 1000);
        await sleep(waitMs, options.signal ?? NEVER_ABORTED);
      }
    },
    cancel: (ref: DatasetRef, runId: string, options?: IdempotentCallOptions): Promise<Run> =>
      this.request('POST', `${runPath(ref, runId)}/cancel`, withIdempotency(options, {})),
    results: (
      ref: DatasetRef,
      runId: string,
      page: PageRequest & { verdict?: Verdict | undefined } = {},
      options?: CallOptions,
    ): Promise<CursorPage<RunResult>> => {
      const query = pageQuery(page);
      const verdict = page.verdict ? `${query ? '&' : '?'}verdict=${page.verdict}` : '';
      return this.request('GET', `${runPath(ref, runId)}/results${query}${verdict}`, options);
    },
    /** Every result as it streams in (`results.jsonl`), one at a time: memory stays flat however big the run. */
    exportJsonl: (
      ref: DatasetRef,
      runId: string,
      filter: { verdict?: Verdict | undefined } = {},
      options?: CallOptions,
    ): AsyncGenerator<RunResult> => this.#exportJsonl(ref, runId, filter, options),
  };

  async *#exportJsonl(
    ref: DatasetRef,
    runId: string,
    filter: { verdict?: Verdict | undefined },
    options?: CallOptions,
  ): AsyncGenerator<RunResult> {
    const query = filter.verdict ? `?verdict=${filter.verdict}` : '';
    const response = await this.send('GET', `${runPath(ref, runId)}/results.jsonl${query}`, {
      ...options,
      accept: 'application/x-ndjson',
    });
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffered = '';
    const reader = response.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      buffered += decoder.decode(chunk.value, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield JSON.parse(line) as RunResult;
        newline = buffered.indexOf('\n');
      }
    }
    const last = (buffered + decoder.decode()).trim();
    if (last) yield JSON.parse(last) as RunResult;
  }
}

/** Where a dataset lives; every route names all three, so another tenant's ids answer like missing ones. */
export interface DatasetRef {
  orgId: string;
  projectId: string;
  datasetId: string;
}

export interface PageRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
}

export type RunPoll =
  | { notModified: true; etag: string | undefined; retryAfterSeconds: number | undefined }
  | { notModified: false; run: Run; etag: string | undefined; retryAfterSeconds: number | undefined };

/** The largest `fields=externalId` page the API gives. */
const ITEM_ID_PAGE_MAX = 1000;
const RUN_ACTIVE = new Set<RunStatus>(['queued', 'running']);
const NEVER_ABORTED = new AbortController().signal;

function datasetsPath(ref: { orgId: string; projectId: string }): string {
  return `/orgs/${encodeURIComponent(ref.orgId)}/projects/${encodeURIComponent(ref.projectId)}/datasets`;
}

function datasetPath(ref: DatasetRef): string {
  return `${datasetsPath(ref)}/${encodeURIComponent(ref.datasetId)}`;
}

function runPath(ref: DatasetRef, runId: string): string {
  return `${datasetPath(ref)}/runs/${encodeURIComponent(runId)}`;
}

function pageQuery(page: PageRequest): string {
  const query = new URLSearchParams();
  if (page.cursor !== undefined) query.set('cursor', page.cursor);
  if (page.limit !== undefined) query.set('limit', String(page.limit));
  return query.size > 0 ? `?${query}` : '';
}

function withIdempotency(
  options: IdempotentCallOptions | undefined,
  request: Pick<RequestOptions, 'body' | 'form'>,
): RequestOptions {
  return {
    ...request,
    ...(options?.signal ? { signal: options.signal } : {}),
    headers: { 'idempotency-key': options?.idempotencyKey ?? randomUUID() },
  };
}
