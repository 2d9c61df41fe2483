import { pgliteTestDatabase } from '../support/test-databases.ts';
import { describeMigrationWorker } from './migration-worker.suite.ts';

describeMigrationWorker('PGlite', pgliteTestDatabase);
