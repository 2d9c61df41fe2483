import { serverTestDatabase } from '../support/test-databases.ts';
import { describeLinearIngest } from '../db/linear-ingest.suite.ts';

describeLinearIngest('PostgreSQL', serverTestDatabase);
