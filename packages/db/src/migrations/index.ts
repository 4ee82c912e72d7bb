import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128072459_initial } from './Migration20261128072459_initial.ts';
import { Migration20261202023137_sessionTokens } from './Migration20261202023137_sessionTokens.ts';
import { Migration20261202030434_consent } from './Migration20261202030434_consent.ts';
import { Migration20261202034757_keyOrgAccess } from './Migration20261202034757_keyOrgAccess.ts';
import { Migration20261205102943_staleKeysAndAuditActors } from './Migration20261205102943_staleKeysAndAuditActors.ts';
import { Migration20261205102944_datasets } from './Migration20261205102944_datasets.ts';
import { Migration20261205103016_usageAndLimitRequests } from './Migration20261205103016_usageAndLimitRequests.ts';
import { Migration20261205103152_keyRestrictions } from './Migration20261205103152_keyRestrictions.ts';
import { Migration20261205104652_verificationRuns } from './Migration20261205104652_verificationRuns.ts';
import { Migration20261205133123_twoFactor } from './Migration20261205133123_twoFactor.ts';

/** Every migration, in order. Listed explicitly so bundling or a different working directory can never skip one. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261128072459_initial', class: Migration20261128072459_initial },
  { name: 'Migration20261202023137_sessionTokens', class: Migration20261202023137_sessionTokens },
  { name: 'Migration20261202030434_consent', class: Migration20261202030434_consent },
  { name: 'Migration20261202034757_keyOrgAccess', class: Migration20261202034757_keyOrgAccess },
  {
    name: 'Migration20261205102943_staleKeysAndAuditActors',
    class: Migration20261205102943_staleKeysAndAuditActors,
  },
  { name: 'Migration20261205102944_datasets', class: Migration20261205102944_datasets },
  {
    name: 'Migration20261205103016_usageAndLimitRequests',
    class: Migration20261205103016_usageAndLimitRequests,
  },
  { name: 'Migration20261205103152_keyRestrictions', class: Migration20261205103152_keyRestrictions },
  { name: 'Migration20261205104652_verificationRuns', class: Migration20261205104652_verificationRuns },
  { name: 'Migration20261205133123_twoFactor', class: Migration20261205133123_twoFactor },
];
