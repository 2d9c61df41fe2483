import { pgliteTestDatabase } from '../support/test-databases.ts';
import { describeSdkDatabase } from './sdk-database.suite.ts';

describeSdkDatabase('PGlite', pgliteTestDatabase);
