import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128072459_initial } from './Migration20261128072459_initial.ts';

/** Every migration, in order. Listed explicitly so bundling or a different working directory can never skip one. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261128072459_initial', class: Migration20261128072459_initial },
];
