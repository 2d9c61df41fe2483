import { serverTestDatabase } from '../support/test-databases.ts';
import { describeMigrationWorker } from '../db/migration-worker.suite.ts';

describeMigrationWorker('PostgreSQL', serverTestDatabase);
