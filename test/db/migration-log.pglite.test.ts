import { pgliteTestDatabase } from '../support/test-databases.ts';
import { describeMigrationLog } from './migration-log.suite.ts';

describeMigrationLog('PGlite', pgliteTestDatabase);
