import { pgliteTestDatabase } from '../support/test-databases.ts';
import { describeDatabaseBehaviour } from './database-behaviour.suite.ts';

describeDatabaseBehaviour('PGlite', pgliteTestDatabase);
