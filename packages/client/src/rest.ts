import { CrowdeeApiError, type FieldError } from './errors.ts';
import type { ApiStatus, Me, NewProject, Project, ProjectPage, ProjectPatch } from './rest-types.ts';
import type { FetchFunction } from './throttle/index.ts';

export interface CallOptions {
  signal?: AbortSignal;
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

  private async request<T>(
    method: string,
    path: string,
    options: CallOptions & { body?: unknown; anonymous?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (!options.anonymous) headers.authorization = this.authorization();
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetchFn(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await response.text();
    if (!response.ok) {
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
}
