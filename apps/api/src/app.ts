import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express } from 'express';
import type { AppDeps } from './app-deps.ts';
import { authenticate } from './http/authenticate.middleware.ts';
import { chain, when } from './http/chain.ts';
import { csrfProtection } from './http/csrf.middleware.ts';
import { discoveryRoutes, type HealthSource, healthCheck } from './http/discovery.routes.ts';
import {
  errorHandler,
  holdErrors,
  notFound,
  raiseHeldError,
  requireJsonBody,
} from './http/error-response.ts';
import { idempotency } from './http/idempotency.middleware.ts';
import {
  bodyByProcedure,
  jsonBody,
  rejectMalformedUri,
  trpcRequestLimits,
} from './http/input-boundary.middleware.ts';
import { itemUploadRoute, UPLOAD_PROCEDURE } from './http/item-upload.route.ts';
import { headAsGet, restAllowedMethods } from './http/method-not-allowed.ts';
import { requestLogger } from './http/request-logger.ts';
import { noStore, securityHeaders } from './http/security-headers.ts';
import { trpcAdapter } from './http/trpc.adapter.ts';
import { wwwAuthenticate } from './http/www-authenticate.ts';
import {
  publicRateLimit,
  rateLimit,
  resolveCalls,
  resolvedProcedures,
  restCallResolver,
  trpcCallResolver,
} from './rate-limit/index.ts';
import { buildOpenApiDocument } from './rest/openapi.ts';
import { restAdapter } from './rest/rest.adapter.ts';
import { appRouter } from './routers/index.ts';
import { conditionalRunGet, exportRunResults } from './runs/runs-rest.middleware.ts';
import { countUsage } from './usage/usage.middleware.ts';

export interface AppOptions {
  health?: HealthSource;
}

/** The whole HTTP surface. Pure wiring: every rule it applies lives in a middleware, a service or packages/core. */
export function createApp(deps: AppDeps, options: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustedProxies);
  app.set('query parser', 'simple');
  const limits = deps.limits;
  const health = options.health ?? { rateLimitStore: () => limits?.store.status() ?? 'off' };
  const pass: express.RequestHandler = (_req, _res, next) => next();
  const limited = limits ? rateLimit(limits) : pass;
  const limitedAs = (tier: 'anonymous' | 'health') => (limits ? publicRateLimit(limits, tier) : pass);
  const json = jsonBody(deps.config.bodyLimitBytes);
  // Item batches are bigger than anything else: their procedures get a body limit of their own.
  const itemBatchJson = jsonBody(deps.config.items.textBatchMaxBytes);
  const large = {
    procedures: new Set(['items.add', UPLOAD_PROCEDURE]),
    handlers: [requireJsonBody, itemBatchJson],
  };
  const trpcBody = bodyByProcedure({
    resolved: resolvedProcedures,
    standard: [requireJsonBody, json],
    large,
  });
  // On REST an upload is multipart/form-data, streamed by its own route.
  const isRestUpload = (req: express.Request) => resolvedProcedures(req).includes(UPLOAD_PROCEDURE);
  const restBody = bodyByProcedure({
    resolved: resolvedProcedures,
    standard: [requireJsonBody, json],
    large,
    streamed: isRestUpload,
  });
  const usage = countUsage(deps.usage);

  app.use(securityHeaders);
  app.use(wwwAuthenticate);
  app.use(requestLogger(deps.logger));
  // /trpc and /api/v1 first: Express's own mount matching (case-insensitive, as it routes) decides which requests
  // they own, and each charges its calls by the procedure that will run. Everything else is anonymous traffic.
  // Each mount is one layer (`chain`); `when` skips a step without a promise for requests it has nothing to do with
  // (each step still checks for itself).
  app.use(
    '/trpc',
    chain(
      noStore,
      resolveCalls(limits, trpcCallResolver(appRouter)),
      // GET and HEAD carry no body: nothing to check or parse (each step would pass them on).
      when(mayCarryBody, holdErrors(...trpcBody)),
      authenticate(deps, { acceptSession: true }),
      usage,
      limited,
      raiseHeldError,
      trpcRequestLimits,
      csrfProtection(deps.config.allowedOrigins),
      trpcAdapter(deps, appRouter, {
        // A query sent as POST or a mutation as GET: say which method the procedure takes.
        errorHeaders: (errors, type): Record<string, string> =>
          errors.every((e) => e.code === 'METHOD_NOT_SUPPORTED')
            ? { Allow: type === 'query' ? 'GET' : 'POST' }
            : {},
      }),
    ),
  );

  app.use(
    '/api/v1',
    chain(
      noStore,
      cors,
      headAsGet,
      resolveCalls(
        limits,
        restCallResolver(appRouter),
        restAllowedMethods(buildOpenApiDocument(appRouter).paths ?? {}),
      ),
      when(mayCarryBody, holdErrors(...restBody)),
      // REST is for scripts: keys only, never the browser's session cookie (so no CSRF exposure either).
      authenticate(deps, { acceptSession: false }),
      usage,
      // An unchanged run answers 304 here, before the charge: conditional polling is free (see the middleware).
      when(
        (req) => req.method === 'GET' && req.headers['if-none-match'] !== undefined,
        conditionalRunGet(deps),
      ),
      limited,
      raiseHeldError,
      when(
        (req) => req.method === 'POST',
        idempotency(deps, { streamed: isRestUpload, streamedMaxBytes: deps.config.items.uploadMaxBytes }),
      ),
      when(isRestUpload, itemUploadRoute(deps)),
      when(
        (req) => req.method === 'GET' && resolvedProcedures(req).includes('runs.exportResults'),
        exportRunResults(deps),
      ),
      restAdapter(deps),
    ),
  );

  // Monitors poll from shared addresses: the health check has a budget of its own, never the anonymous one.
  app.get('/healthz', limitedAs('health'), healthCheck(deps, health));
  app.use(limitedAs('anonymous'));
  // Charged above like any anonymous request, then refused before any route tries to decode the path.
  app.use(rejectMalformedUri);
  app.use(discoveryRoutes(deps, appRouter));

  const webDist = deps.config.webDist;
  if (webDist && existsSync(join(webDist, 'index.html'))) {
    // Vite's hashed assets never change under a name: cache them for good, so a reload costs the page alone.
    app.use(
      '/assets',
      express.static(join(webDist, 'assets'), {
        index: false,
        immutable: true,
        maxAge: '365d',
        fallthrough: false,
      }),
    );
    app.use(express.static(webDist, { index: false, maxAge: '1h' }));
    // The settings app routes on the client: any other HTML navigation gets its shell.
    app.get(/^\/(?!api\/|trpc\/|docs).*/, (req, res, next) => {
      if (req.accepts(['json', 'html']) !== 'html') return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(webDist, 'index.html'));
    });
  }

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}

const mayCarryBody = (req: express.Request) => req.method !== 'GET' && req.method !== 'HEAD';

/**
 * Scripts in other origins may call the key-authenticated REST API from a browser: no cookies are involved, so a
 * wildcard origin is safe. Rate-limit headers are exposed so such clients can back off.
 */
const cors: express.RequestHandler = (req, res, next) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader(
    'Access-Control-Expose-Headers',
    'RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed',
  );
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Idempotency-Key');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
    return;
  }
  next();
};
