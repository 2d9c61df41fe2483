import { serverTestDatabase } from '../support/test-databases.ts';
import { describeSdkDatabase } from '../db/sdk-database.suite.ts';

describeSdkDatabase('PostgreSQL', serverTestDatabase);
