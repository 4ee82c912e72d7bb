import { fileURLToPath } from 'node:url';

export const webRoot = fileURLToPath(new URL('../../', import.meta.url));
export const webDist = fileURLToPath(new URL('../../dist/', import.meta.url));
export const artifactsDir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
export const coreSourceDir = fileURLToPath(new URL('../../../../packages/core/src/', import.meta.url));
