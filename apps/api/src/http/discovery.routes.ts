import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { ERROR_TABLE } from '@crowdee/core';
import { pingDatabase } from '@crowdee/db';
import express, { type RequestHandler, type Router } from 'express';
import { API_VERSION } from '../api-version.ts';
import type { AppDeps } from '../app-deps.ts';
import { buildOpenApiDocument, DEFAULT_PUBLIC_ORIGIN } from '../rest/openapi.ts';
import type { AppRouter } from '../routers/index.ts';
import { renderGettingStarted } from './getting-started.page.ts';
import { methodNotAllowed } from './method-not-allowed.ts';

export interface HealthSource {
  rateLimitStore(): string;
}

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The product's icon, for the settings app and the docs pages alike (browsers also ask for /favicon.ico). */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><title>Crowdee</title><rect width="32" height="32" rx="8" fill="#4f46e5"/><path d="M21.5 11.2A7 7 0 1 0 21.5 20.8" fill="none" stroke="#fff" stroke-width="3.2" stroke-linecap="round"/></svg>';
const ICON_LINK = '<link rel="icon" type="image/svg+xml" href="/favicon.svg">';

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crowdee API reference</title>
${ICON_LINK}
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

// An external script (not inline) so the page runs under our strict Content-Security-Policy.
const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  // The Bearer key typed into "Authorize" survives a reload, in this browser's local storage only (the page says so).
  persistAuthorization: true,
  tryItOutEnabled: true,
});`;

function errorsPage(): string {
  const rows = Object.entries(ERROR_TABLE)
    .map(
      ([code, spec]) =>
        `<tr id="${code}"><td><code>${code}</code></td><td>${spec.status}</td><td><code>${spec.trpc}</code></td><td>${escapeHtml(spec.message)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Crowdee API error codes</title>${ICON_LINK}
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}</style>
</head><body><h1>Error codes</h1><p>Every error carries one of these stable codes: in the <code>code</code> field of REST
problem details, and in <code>error.data.code</code> for tRPC callers. <a href="/docs">Back to the API reference</a>.</p>
<table><thead><tr><th>Code</th><th>HTTP</th><th>tRPC</th><th>Meaning</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}

/**
 * `GET /healthz`: whether the database answers, where rate limits are counted, and which channel carries key-cache
 * invalidations and whether it is connected (`degraded`: flushed, short TTL until it is back).
 */
export function healthCheck(deps: AppDeps, health: HealthSource): RequestHandler {
  return async (_req, res) => {
    const rateLimitStore = health.rateLimitStore();
    const invalidation = deps.invalidation.health();
    try {
      await pingDatabase(deps.orm);
      res.setHeader('Cache-Control', 'no-store');
      res.json({ status: 'ok', database: 'ok', rateLimitStore, invalidation });
    } catch (error) {
      deps.logger.warn({ err: error }, 'health check: database unavailable');
      res.status(503).setHeader('Cache-Control', 'no-store');
      res.json({ status: 'unavailable', database: 'unavailable', rateLimitStore, invalidation });
    }
  };
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** The origin a client reached us at (Express believes X-Forwarded-Proto only from trusted proxies). */
function requestOrigin(req: express.Request): string {
  const host = req.get('host') ?? '';
  return HOST.test(host) ? `${req.protocol}://${host}` : DEFAULT_PUBLIC_ORIGIN;
}

/**
 * The document names its own absolute URLs (externalDocs, contact): rendered once with a marker, and the marker
 * replaced per request by the validated origin, so a stream of made-up Host headers costs a string replace each.
 */
function openApiJsonByOrigin(appRouter: AppRouter): (origin: string) => string {
  const marker = 'https://origin.invalid';
  const json = JSON.stringify(buildOpenApiDocument(appRouter, marker));
  return (origin) => json.replaceAll(marker, origin);
}

/** Public, read-only routes: discovery, the OpenAPI document and the docs pages. */
export function discoveryRoutes(deps: AppDeps, appRouter: AppRouter): Router {
  const routes = express.Router();
  const openapiJson = openApiJsonByOrigin(appRouter);
  const errorsHtml = errorsPage();
  const gettingStartedHtml = renderGettingStarted(deps.config.docsDir);

  routes.get('/', (req, res, next) => {
    res.vary('Accept');
    // A browser asking for HTML gets the settings app (served later in the chain); everyone else gets discovery.
    if (req.accepts(['json', 'html']) === 'html' && deps.config.webDist) return next();
    res.json({
      name: 'Crowdee API',
      version: API_VERSION,
      description:
        'Organizations, members, projects and API keys. Authenticate with `Authorization: Bearer <key>`.',
      links: {
        docs: '/docs',
        openapi: '/openapi.json',
        rest: '/api/v1',
        trpc: '/trpc',
        health: '/healthz',
        errors: '/docs/errors',
        gettingStarted: '/docs/getting-started',
      },
    });
  });

  routes.get(['/favicon.svg', '/favicon.ico'], (_req, res) => {
    res.type('image/svg+xml').setHeader('Cache-Control', 'public, max-age=86400');
    res.send(FAVICON_SVG);
  });

  routes.get('/openapi.json', (req, res) => {
    res.vary('Host');
    res.type('application/json').send(openapiJson(requestOrigin(req)));
  });
  routes.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_HTML);
  });
  routes.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT);
  });
  routes.get('/docs/getting-started', (_req, res, next) => {
    if (gettingStartedHtml === null) return next();
    res.type('html').send(gettingStartedHtml);
  });
  routes.get('/docs/errors', (_req, res) => {
    res.type('html').send(errorsHtml);
  });
  routes.use('/docs/assets', express.static(swaggerDir, { index: false, maxAge: '1d', fallthrough: false }));
  // Known paths called with another method: 405 with Allow, not a 404 that says the path does not exist.
  routes.all(
    ['/healthz', '/openapi.json', '/docs', '/docs/init.js', '/docs/errors'],
    methodNotAllowed(['GET', 'HEAD']),
  );
  return routes;
}
