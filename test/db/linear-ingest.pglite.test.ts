import { pgliteTestDatabase } from '../support/test-databases.ts';
import { describeLinearIngest } from './linear-ingest.suite.ts';

describeLinearIngest('PGlite', pgliteTestDatabase);
