/**
 * Writes the OpenAPI document exactly as `GET /openapi.json` serves it, without starting a server or a database,
 * so outside linters (`pnpm lint:openapi`) check what clients actually get.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildOpenApiDocument } from '../src/rest/openapi.ts';
import { appRouter } from '../src/routers/index.ts';

const target = resolve(process.argv[2] ?? 'dist/openapi.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(appRouter), null, 2)}\n`);
process.stdout.write(`OpenAPI document written to ${target}\n`);
